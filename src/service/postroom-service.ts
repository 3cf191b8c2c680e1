/**
 * The running Postroom, built in one place for the CLI and the tests alike: the store, the
 * connection registry (postroom.yaml plus connections stored through the API), the metrics, the
 * worker with its destinations, and the HTTP API. `start()` and `stop()` are idempotent.
 *
 *   const service = await PostroomService.open({ config, log });
 *   await service.start();            // listens (when api.enabled), then polls and delivers
 *   await service.stop({ timeoutMs }); // finishes the email in hand, releases leases, closes the store
 *
 * `mode: 'once'` builds the same service without API or metrics, for `run --once`.
 *
 * Started from a config file (`configFile`), it reloads its destinations from it on request
 * (`reloadDestinations()`: SIGHUP in `postroom run`, POST /api/destinations/reload).
 */
import type { Logger } from 'pino';
import { type ControlPlane, openControlPlane } from '../api/control-plane.ts';
import type { DestinationReload } from '../api/schemas.ts';
import type { Config } from '../config/schema.ts';
import { createDestination } from '../destinations/registry.ts';
import { AlignedClock } from '../engine/aligned-clock.ts';
import type { DrainResult } from '../engine/delivery.ts';
import type { PollOutcome } from '../engine/poll-connection.ts';
import { Worker, type WorkerOptions } from '../engine/worker.ts';
import { type Clock, systemClock } from '../model/clock.ts';
import { PostroomError } from '../model/errors.ts';
import { type OpenedStore, openStore } from '../store/open-store.ts';
import { reloadDestinations } from './reload-destinations.ts';
import { type Telemetry, tracingWanted } from './telemetry.ts';

export interface ServiceOptions {
  config: Config;
  log: Logger;
  /** The file `config` was loaded from: reloadDestinations() reads it again. */
  configFile?: string;
  /** The directory a relative store path is resolved against (the config file's); default the working directory. */
  baseDir?: string;
  /** 'service' (default) serves the API when `api.enabled`; 'once' has no API and keeps no metrics. */
  mode?: 'service' | 'once';
  clock?: Clock;
  holder?: string;
  /** A store opened by the caller (tests sharing one between workers); the service then leaves it open on stop. */
  opened?: OpenedStore;
  /** Worker options for tests: concurrency, hooks. */
  worker?: Pick<WorkerOptions, 'maxConcurrentPolls' | 'onPoll' | 'onDelivery'>;
}

export class PostroomService {
  /** The API's address once started, when the API is served. */
  url: string | undefined;
  private api: { url: string; close(): Promise<void> } | undefined;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  /** The configuration running now: the one started with, and the destinations reloads swapped in. */
  private running: Config;
  /** Reloads run one after another. */
  private reloading: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly options: ServiceOptions,
    readonly opened: OpenedStore,
    readonly plane: ControlPlane,
    readonly worker: Worker,
    private readonly ownsStore: boolean,
    private readonly telemetry: Telemetry | undefined,
    private readonly clock: AlignedClock | undefined,
  ) {
    this.running = options.config;
  }

  static async open(options: ServiceOptions): Promise<PostroomService> {
    const { config, log } = options;
    const opened =
      options.opened ??
      (await openStore(config.store, {
        log,
        ...(options.baseDir ? { baseDir: options.baseDir } : {}),
        ...(config.contentDir ? { contentDir: config.contentDir } : {}),
      }));
    let telemetry: Telemetry | undefined;
    // Workers on several machines share PostgreSQL: their times are set to the database's.
    const databaseTime = opened.store.databaseTime?.bind(opened.store);
    const aligned = databaseTime ? new AlignedClock(options.clock ?? systemClock, databaseTime, log) : undefined;
    const clock = aligned ?? options.clock;
    try {
      await aligned?.start();
      // Traces only when they have somewhere to go; the SDK is loaded for that alone.
      if (tracingWanted(config)) telemetry = await (await import('./telemetry.ts')).startTracing(config);
      const plane = await openControlPlane({
        config,
        opened,
        log,
        withoutMetrics: options.mode === 'once',
        ...(clock ? { clock } : {}),
      });
      const hooks = options.worker ?? {};
      const worker = new Worker({
        createDestination,
        config,
        opened,
        log,
        ...plane.workerOptions,
        ...hooks,
        ...(hooks.onPoll && plane.workerOptions.onPoll ? { onPoll: both(plane.workerOptions.onPoll, hooks.onPoll) } : {}),
        ...(hooks.onDelivery && plane.workerOptions.onDelivery ? { onDelivery: both(plane.workerOptions.onDelivery, hooks.onDelivery) } : {}),
        ...(clock ? { clock } : {}),
        ...(options.holder ? { holder: options.holder } : {}),
      });
      return new PostroomService(options, opened, plane, worker, options.opened === undefined, telemetry, aligned);
    } catch (error) {
      aligned?.stop();
      if (options.opened === undefined) await opened.store.close();
      await telemetry?.shutdown();
      throw error;
    }
  }

  /** Serves the API (listening first, so a port in use stops the start before any polling), then polls and delivers. */
  start(): Promise<void> {
    if (this.stopping) return Promise.reject(new Error('this Postroom service was stopped; open a new one'));
    this.starting ??= (async () => {
      if (this.options.mode !== 'once' && this.options.config.api.enabled) {
        this.api = await this.plane.listen(this.worker, this.options.configFile ? { reloadDestinations: (by) => this.reloadDestinations(by) } : {});
        this.url = this.api.url;
      }
      this.worker.start();
    })();
    return this.starting;
  }

  /** `run --once`: polls every connection once, delivers everything that can be delivered now. */
  runOnce(
    onProgress?: (connection: string, progress: { done: number; total: number }) => void,
  ): Promise<{ polls: Map<string, PollOutcome>; delivery: DrainResult }> {
    return this.worker.runOnce(onProgress);
  }

  /**
   * Reads the config file again, validated exactly as at start-up, and swaps in every destination
   * whose settings changed (its next delivery uses them). An invalid file changes nothing and
   * throws validate's CONFIG_INVALID; what needs a restart is in the answer's `notApplied`.
   */
  reloadDestinations(by = 'an operator'): Promise<DestinationReload> {
    const file = this.options.configFile;
    if (!file) return Promise.reject(new PostroomError('RELOAD_UNAVAILABLE', 'restart the service to change its destinations'));
    if (this.stopping) return Promise.reject(new PostroomError('RELOAD_UNAVAILABLE', 'the service is stopping'));
    const next = this.reloading.then(() => {
      const { answer, running } = reloadDestinations({ file, worker: this.worker, log: this.options.log, running: this.running }, by);
      this.running = running;
      return answer;
    });
    this.reloading = next.catch(() => undefined);
    return next;
  }

  /** Stops serving, finishes the email in hand (up to `timeoutMs`), releases leases and closes the store. */
  stop(options: { timeoutMs?: number } = {}): Promise<void> {
    this.stopping ??= (async () => {
      await this.starting?.catch(() => undefined);
      await this.api?.close();
      await this.worker.stop(options);
      this.clock?.stop();
      if (this.ownsStore) await this.opened.store.close();
      await this.telemetry?.shutdown();
    })();
    return this.stopping;
  }
}

function both<A extends unknown[]>(first: (...args: A) => void, second: (...args: A) => void): (...args: A) => void {
  return (...args) => {
    first(...args);
    second(...args);
  };
}
