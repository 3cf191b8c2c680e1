/**
 * The worker: one Postroom process. A thin facade over the scheduler (which connection to poll
 * when), the pickup, and the delivery loop, with an idempotent start() and a graceful stop().
 *
 * Scheduling is shared through the store: a connection's next due time lives there, every worker
 * looks at it, and the lease decides who polls. A worker runs at most `maxConcurrentPolls`
 * connections at once so that several workers spread the mailboxes between them.
 */

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Config, ConnectionConfig } from '../config/schema.ts';
import { type Clock, systemClock } from '../model/clock.ts';
import type { CreateDestination, Destination, DestinationContext } from '../model/destination.ts';
import { errorMessage, PostroomError } from '../model/errors.ts';
import type { OpenedStore } from '../store/open-store.ts';
import type { Store } from '../store/store.ts';
import { throttleAccount } from '../throttle/account.ts';
import { accountPause } from '../throttle/account-pause.ts';
import { type DeliveryDeps, DeliveryLoop, type DrainResult } from './delivery.ts';
import { IdleWatchers } from './idle-watchers.ts';
import type { LeaseKeeper } from './lease-keeper.ts';
import { outboxRoom } from './outbox-room.ts';
import { createParseThreads, type ParseThreads, threadsFor } from './parse-threads.ts';
import type { PickupResult } from './pickup.ts';
import { type PollOutcome, pollConnection, sumPickups } from './poll-connection.ts';
import { isStoreOutage, StoreOutage } from './store-outage.ts';

/** How often the scheduler looks for due connections. */
const TICK_MS = 1_000;
/** Connections one worker polls at once; the rest wait for a slot or for another worker. */
export const DEFAULT_MAX_CONCURRENT_POLLS = 4;

export interface WorkerOptions {
  config: Config;
  opened: OpenedStore;
  log: Logger;
  /** Builds each configured destination (destinations/registry.ts in the service). */
  createDestination: CreateDestination;
  clock?: Clock;
  holder?: string;
  maxConcurrentPolls?: number;
  /** The connections to poll; defaults to the config's. The API adds stored ones. */
  connections?: () => ConnectionConfig[];
  /** Called after each delivery attempt (metrics). */
  onDelivery?: DeliveryDeps['onOutcome'];
  /** Called after each poll this worker ran, with how long it took (metrics). */
  onPoll?: (connection: string, outcome: PollOutcome, durationMs: number) => void;
}

export function newHolderId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

/** What every destination of a worker is built with (at start, and again by a reload). */
function destinationContext(name: string, log: Logger, dataDir: string, store: Store): DestinationContext {
  return { log: log.child({ destination: name }), dataDir, accountPause: accountPause(store), requests: store };
}

export function createDestinations(create: CreateDestination, config: Config, log: Logger, dataDir: string, store: Store): Map<string, Destination> {
  const destinations = new Map<string, Destination>();
  for (const [name, options] of Object.entries(config.destinations))
    destinations.set(name, create(name, options, destinationContext(name, log, dataDir, store)));
  return destinations;
}

export class Worker {
  readonly holder: string;
  readonly delivery: DeliveryLoop;
  /** Every delivery outcome of this worker, for `run --once`'s summary. */
  readonly deliveryTotals: DrainResult = { delivered: 0, retried: 0, dead: 0 };
  private readonly clock: Clock;
  private readonly destinations: Map<string, Destination>;
  private readonly running = new Map<string, Promise<PollOutcome>>();
  private readonly held = new Map<string, LeaseKeeper>();
  /** IDLE watchers (service mode only) and the connections they asked to poll as soon as a slot is free. */
  private readonly watchers: IdleWatchers;
  private readonly wanted = new Set<string>();
  private readonly abort = new AbortController();
  /** Connections an operator paused (from the store at each tick): no worker polls them. */
  private paused = new Set<string>();
  /** What this worker last wrote as the connections' `enabled` (written again only on change). */
  private enabledWritten = '';
  private ticker: NodeJS.Timeout | undefined;
  private started = false;
  private stopped = false;
  /** The first tick after start(): every connection no other worker holds is polled at once. */
  private starting = true;
  private readonly outage: StoreOutage;
  /** Destinations a reload swapped out, closing once their deliveries under way are over. */
  private readonly retiring = new Set<Promise<void>>();
  /** Keeps and splits emails that arrived whole beside this thread (`parsing.threads`). */
  private readonly parser: ParseThreads | undefined;

  constructor(private readonly options: WorkerOptions) {
    this.clock = options.clock ?? systemClock;
    this.holder = options.holder ?? newHolderId();
    this.outage = new StoreOutage(options.log, this.clock, 'the scheduler');
    this.watchers = new IdleWatchers({ log: options.log, onMail: (name) => this.pollSoon(name) });
    // A config built in code rather than parsed from a file may leave `parsing` out.
    this.parser = createParseThreads(threadsFor(options.config.parsing?.threads ?? 'auto'), options.opened.content);
    this.destinations = createDestinations(options.createDestination, options.config, options.log, options.opened.dataDir, options.opened.store);
    this.delivery = new DeliveryLoop({
      store: options.opened.store,
      contents: options.opened.content,
      destinations: this.destinations,
      clock: this.clock,
      log: options.log,
      holder: this.holder,
      deadLetterSchedule: options.config.retry.deadLetterSchedule,
      keepDeliveredMs: options.config.outbox.keepDelivered,
      keepDeliveredContentMs: options.config.outbox.keepDeliveredContent,
      onOutcome: (outcome, message) => {
        this.deliveryTotals[outcome === 'retry' ? 'retried' : outcome === 'still-dead' ? 'dead' : outcome] += 1;
        options.onDelivery?.(outcome, message);
      },
    });
  }

  /** The destinations deliveries go to now (after any reload): name and type. */
  destinationList(): Array<{ name: string; type: string }> {
    return [...this.destinations.values()].map(({ name, type }) => ({ name, type }));
  }

  /**
   * New settings for a destination this worker delivers to (a reload of the config file): built
   * as at start, used by the next delivery; the old one is closed once its deliveries under way
   * are over (in the background: a hanging webhook must not hold up the reload). A name without
   * a lane here is refused (DESTINATION_NOT_FOUND): adding a destination needs a restart.
   */
  swapDestination(name: string, options: Config['destinations'][string]): void {
    if (!this.destinations.has(name)) throw new PostroomError('DESTINATION_NOT_FOUND', `"${name}" is not one this worker started with; a restart adds it`);
    const { log, opened } = this.options;
    const next = this.options.createDestination(name, options, destinationContext(name, log, opened.dataDir, opened.store));
    const closing: Promise<void> = this.delivery
      .swapDestination(name, next)
      .catch((error: unknown) =>
        log.warn({ destination: name, err: error }, `the old settings of destination ${name} did not close cleanly: ${errorMessage(error)}`),
      )
      .finally(() => this.retiring.delete(closing));
    this.retiring.add(closing);
  }

  /** The connections this worker polls: enabled and not paused. */
  connections(): ConnectionConfig[] {
    return this.allConnections().filter((connection) => connection.enabled && !this.paused.has(connection.name));
  }

  private allConnections(): ConnectionConfig[] {
    return this.options.connections?.() ?? this.options.config.connections;
  }

  /**
   * Poll now (an operator asked): due at once for every worker; polled here unless another
   * worker holds its lease (that one then polls it within a tick). Refused when paused or disabled.
   */
  async pollNow(name: string, by: string): Promise<PollOutcome> {
    const store = this.options.opened.store;
    const connection = this.allConnections().find((c) => c.name === name);
    if (!connection) throw new PostroomError('CONNECTION_NOT_FOUND', `"${name}"`);
    if (!connection.enabled) throw new PostroomError('CONNECTION_DISABLED', `"${name}"`);
    const state = await store.getConnectionState(name);
    if (state?.pausedBy) throw new PostroomError('CONNECTION_PAUSED', `"${name}" (paused by ${state.pausedBy})`);
    // Recorded (and due) before the poll starts, so the poll that follows is marked as asked for.
    await store.recordControl({ connection: name, action: 'poll', by, at: this.clock.now() });
    return this.poll(connection);
  }

  /** Records the operator's pause or resume and who asked; every worker sees it at its next tick and lets the lease go. */
  async setPaused(name: string, paused: boolean, by: string): Promise<void> {
    const store = this.options.opened.store;
    if (!this.allConnections().some((c) => c.name === name)) throw new PostroomError('CONNECTION_NOT_FOUND', `"${name}"`);
    await store.recordControl({ connection: name, action: paused ? 'pause' : 'resume', by, at: this.clock.now() });
    if (paused) this.paused.add(name);
    else this.paused.delete(name);
    void this.tick();
  }

  /** Starts the scheduler and the delivery loop. Calling it again does nothing. */
  start(): void {
    if (this.started) return;
    if (this.stopped) throw new Error('a stopped worker cannot start again');
    this.started = true;
    this.delivery.start();
    this.ticker = setInterval(() => void this.tick(), TICK_MS);
    void this.tick();
  }

  private async tick(): Promise<void> {
    if (this.abort.signal.aborted || this.outage.waiting()) return;
    const max = this.options.maxConcurrentPolls ?? DEFAULT_MAX_CONCURRENT_POLLS;
    try {
      const [stateList, leaseList] = await Promise.all([this.options.opened.store.listConnectionStates(), this.options.opened.store.listLeases()]);
      const states = new Map(stateList.map((state) => [state.connection, state]));
      const leases = new Map(leaseList.map((lease) => [lease.connection, lease]));
      const now = this.clock.now();
      this.paused = new Set(stateList.filter((state) => state.pausedBy).map((state) => state.connection));
      await this.releasePaused();
      await this.writeEnabled();
      const connections = this.connections();
      if (this.starting) {
        // A starting service reads at once (and so starts IDLE at once), not when the next due
        // time a `run --once` or an earlier process left behind comes round.
        this.starting = false;
        for (const connection of connections) {
          const lease = leases.get(connection.name);
          if (!lease || lease.expiresAt <= now || lease.holder === this.holder) this.wanted.add(connection.name);
        }
      }
      if (this.watchers.size) this.watchers.reconcile(connections, leaseList, this.holder, now);
      // Fair: the longest-waiting connection first, so a worker that is always busy cannot starve
      // the end of the list; a connection another worker holds the lease for is left to it.
      const due = connections
        .filter((connection) => !this.running.has(connection.name))
        .map((connection) => ({ connection, at: this.wanted.has(connection.name) ? 0 : (states.get(connection.name)?.nextDueAt ?? 0), tie: Math.random() }))
        .filter(({ connection, at }) => {
          const lease = leases.get(connection.name);
          return at <= now && (!lease || lease.expiresAt <= now || lease.holder === this.holder);
        })
        .sort((a, b) => a.at - b.at || a.tie - b.tie);
      this.outage.answered();
      for (const { connection } of due) {
        if (this.running.size >= max) break;
        if (this.openToAccount(connection) >= this.options.config.throttle.maxConnectionsPerAccount) continue;
        this.poll(connection);
      }
    } catch (error) {
      if (isStoreOutage(error)) this.outage.failed(error);
      else this.options.log.error({ err: error }, `scheduler tick failed: ${errorMessage(error)}`);
    }
  }

  /** A paused connection keeps its lease free: a lease this worker still holds for one is given back. */
  private async releasePaused(): Promise<void> {
    for (const name of this.paused) {
      const keeper = this.held.get(name);
      if (!keeper || this.running.has(name)) continue;
      try {
        await this.options.opened.store.releaseLease(keeper.current);
        this.held.delete(name);
        this.options.log.info({ connection: name }, 'paused by an operator: lease let go, no polls until resumed');
      } catch (error) {
        // Kept in `held`: the next tick tries again.
        this.options.log.warn({ connection: name, err: error }, 'could not let go of the lease of a paused connection yet; trying again');
      }
    }
  }

  /** `postroom status` from another shell shows what this service decided, not its own reading of the environment. */
  private async writeEnabled(): Promise<void> {
    const list = this.allConnections().map((connection) => ({ name: connection.name, enabled: connection.enabled }));
    const key = JSON.stringify(list);
    if (key === this.enabledWritten) return;
    await this.options.opened.store.recordEnabled(list);
    this.enabledWritten = key;
  }

  /** Polls running here right now against the same account as `connection`. */
  private openToAccount(connection: ConnectionConfig): number {
    const account = throttleAccount(connection);
    return this.connections().filter((other) => this.running.has(other.name) && throttleAccount(other) === account).length;
  }

  /** Polls one connection now (unless it is already being polled here). */
  poll(connection: ConnectionConfig, onProgress?: (progress: { done: number; total: number }) => void): Promise<PollOutcome> {
    const existing = this.running.get(connection.name);
    if (existing) return existing;
    this.wanted.delete(connection.name);
    const startedAt = this.clock.now();
    const run = pollConnection(connection, {
      store: this.options.opened.store,
      contents: this.options.opened.content,
      clock: this.clock,
      log: this.options.log.child({ connection: connection.name }),
      holder: this.holder,
      config: this.options.config,
      signal: this.abort.signal,
      held: this.held,
      onCommitted: () => this.delivery.nudge(),
      waitForRoom: outboxRoom({
        store: this.options.opened.store,
        clock: this.clock,
        log: this.options.log,
        maxPending: this.options.config.outbox.maxPending,
        signal: this.abort.signal,
      }),
      ...(onProgress ? { onProgress } : {}),
      ...(this.parser ? { parser: this.parser } : {}),
    })
      .then((outcome) => {
        this.options.onPoll?.(connection.name, outcome, this.clock.now() - startedAt);
        if (this.started && !this.stopped) this.watchers.afterPoll(connection, outcome);
        // Reading resumes the moment a throttle ends, not at the next tick after it.
        if (this.started && !this.stopped && outcome.status === 'throttled')
          setTimeout(() => void this.tick(), Math.max(0, outcome.until - this.clock.now()) + 1).unref();
        return outcome;
      })
      .finally(() => {
        this.running.delete(connection.name);
        // New mail announced while this run was past its listing: take it now.
        if (this.wanted.has(connection.name)) this.pollSoon(connection.name);
      });
    this.running.set(connection.name, run);
    return run;
  }

  /** A watcher saw new mail: poll now, or once the run in progress ends or a slot frees up. */
  private pollSoon(name: string): void {
    if (!this.started || this.stopped) return;
    const connection = this.connections().find((c) => c.name === name);
    if (!connection) return;
    const busy =
      this.running.size >= (this.options.maxConcurrentPolls ?? DEFAULT_MAX_CONCURRENT_POLLS) ||
      this.openToAccount(connection) >= this.options.config.throttle.maxConnectionsPerAccount;
    if (this.running.has(name) || busy) {
      this.wanted.add(name);
      return;
    }
    this.poll(connection).catch((error: unknown) => this.options.log.error({ err: error, connection: name }, 'poll failed'));
  }

  /** `run --once`: poll every enabled connection once, then deliver everything due. */
  async runOnce(
    onProgress?: (connection: string, progress: { done: number; total: number }) => void,
  ): Promise<{ polls: Map<string, PollOutcome>; delivery: DrainResult }> {
    const polls = new Map<string, PollOutcome>();
    const max = this.options.maxConcurrentPolls ?? DEFAULT_MAX_CONCURRENT_POLLS;
    const states = await this.options.opened.store.listConnectionStates();
    this.paused = new Set(states.filter((state) => state.pausedBy).map((state) => state.connection));
    for (const name of this.paused) this.options.log.info({ connection: name }, 'paused by an operator: not polled (resume it to poll again)');
    await this.writeEnabled();
    const queue = [...this.connections()];
    const cap = this.options.config.throttle.maxConnectionsPerAccount;
    const lane = async (): Promise<void> => {
      while (queue.length) {
        // The next connection whose account has a free slot; else wait for a poll to end.
        const index = queue.findIndex((candidate) => this.openToAccount(candidate) < cap);
        if (index === -1) {
          await Promise.race(this.running.values());
          continue;
        }
        const [connection] = queue.splice(index, 1);
        const name = connection!.name;
        const progress = onProgress ? (p: { done: number; total: number }) => onProgress(name, p) : undefined;
        let outcome = await this.poll(connection!, progress);
        // A short throttle is waited out (throttle.onceWaitMax) so the run finishes the job; a
        // longer one ends it, and the caller says when reading can resume.
        while (outcome.status === 'throttled' && outcome.until - this.clock.now() <= this.options.config.throttle.onceWaitMax && !this.abort.signal.aborted) {
          this.options.log.info({ connection: name, until: new Date(outcome.until).toISOString() }, 'throttled: run --once waits and goes on');
          await this.clock.sleep(Math.max(0, outcome.until - this.clock.now()), this.abort.signal);
          const earlier = outcome.result;
          outcome = await this.poll(connection!, progress);
          if (earlier) outcome = withEarlier(outcome, earlier);
        }
        polls.set(name, outcome);
      }
    };
    // Deliver while polling, so the outbox does not pile up; then drain what is left.
    this.delivery.start();
    await Promise.all(Array.from({ length: Math.min(max, queue.length) }, lane));
    await this.delivery.stop();
    await this.delivery.drain();
    return { polls, delivery: { ...this.deliveryTotals } };
  }

  /**
   * Stops polling and delivering. A run in progress stops between emails (nothing committed is
   * lost; an email in hand is either committed or left on the server). Every lease this worker
   * still holds is released (only if it is still the current grant), so another worker, or this
   * one restarted, need not wait for it to run out.
   */
  async stop(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.ticker) clearInterval(this.ticker);
    this.abort.abort();
    await this.watchers.stopAll();
    const runs = Promise.allSettled([...this.running.values()]);
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, options.timeoutMs ?? 30_000).unref());
    await Promise.race([runs, timeout]);
    await this.delivery.stop();
    await Promise.all([...this.held.values()].map((keeper) => keeper.release()));
    await this.parser?.close();
    await Promise.all([...this.destinations.values()].map((destination) => destination.close()));
    await Promise.all(this.retiring);
  }
}

/** A poll after a wait, with what the polls before the wait picked up added to it. */
function withEarlier(outcome: PollOutcome, earlier: PickupResult): PollOutcome {
  if (outcome.status === 'leased-elsewhere') return outcome;
  return { ...outcome, result: outcome.result ? sumPickups(earlier, outcome.result) : earlier } as PollOutcome;
}
