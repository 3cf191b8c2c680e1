/**
 * What `postroom run` needs from the control plane: the connections to poll (postroom.yaml plus
 * stored ones), the metrics hooks for the worker, and the HTTP server on `api.listen` (with
 * api.token, or one made in the data directory for a SQLite store: generated-token.ts).
 */
import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import type { Worker, WorkerOptions } from '../engine/worker.ts';
import { type Clock, systemClock } from '../model/clock.ts';
import { isPostgresUrl, type OpenedStore } from '../store/open-store.ts';
import { ConnectionRegistry } from './connection-registry.ts';
import { loadOrCreateApiToken } from './generated-token.ts';
import { resolveListen, urlOf } from './listen-address.ts';
import type { PostroomMetrics } from './metrics.ts';
import type { ApiContext } from './route.ts';

export interface ControlPlane {
  connections: ConnectionRegistry;
  /** Absent when opened `withoutMetrics`. */
  metrics: PostroomMetrics | undefined;
  /** Spread into the Worker's options. */
  workerOptions: Pick<WorkerOptions, 'connections' | 'onPoll' | 'onDelivery'>;
  /** Starts the HTTP server; resolves with the address to print. */
  listen(worker: Worker, controls?: Pick<ApiContext, 'reloadDestinations'>): Promise<{ url: string; close(): Promise<void> }>;
}

export async function openControlPlane(options: {
  config: Config;
  opened: OpenedStore;
  log: Logger;
  clock?: Clock;
  /** For `run --once`: nothing serves metrics, so none are kept (and the metrics library is not loaded); listen() is refused. */
  withoutMetrics?: boolean;
}): Promise<ControlPlane> {
  const clock = options.clock ?? systemClock;
  const connections = await ConnectionRegistry.open({ store: options.opened.store, config: options.config, log: options.log, clock });
  const metrics = options.withoutMetrics ? undefined : new (await import('./metrics.ts')).PostroomMetrics();
  return {
    connections,
    metrics,
    workerOptions: { connections: () => connections.all(), ...(metrics ? { onPoll: metrics.onPoll, onDelivery: metrics.onDelivery } : {}) },
    async listen(worker, controls = {}) {
      if (!metrics) throw new Error('this control plane was opened without metrics, for run --once: it does not serve the API');
      const configured = options.config.api.token || undefined;
      // The listen address follows the configured token only: a made one never widens it.
      const address = resolveListen(options.config.api.listen, configured);
      if (address.note) options.log.warn(address.note);
      const generated = configured === undefined && !isPostgresUrl(options.config.store) ? await loadOrCreateApiToken(options.opened.dataDir) : undefined;
      if (generated) {
        options.log.info(
          { tokenFile: generated.path },
          `${generated.created ? 'made an API token' : 'the API token is'} in ${generated.path}: log in to the web UI with it, or send Authorization: Bearer <the file's contents>; set api.token to choose your own`,
        );
      }
      const config = generated ? { ...options.config, api: { ...options.config.api, token: generated.token } } : options.config;
      // The HTTP server and the UI load only when the API is served (not for `run --once`).
      const [{ createApiServer }, { uiAssets }] = await Promise.all([import('./server.ts'), import('./ui/ui-assets.ts')]);
      const app = createApiServer({ config, opened: options.opened, worker, log: options.log, connections, metrics, clock, ...controls });
      await app.listen({ host: address.host, port: address.port });
      connections.startRefreshing();
      // Build the UI now rather than on the first page load.
      uiAssets().catch((error: unknown) => options.log.error({ err: error }, 'the web UI could not be loaded; the REST API still works'));
      const bound = app.server.address();
      const url = urlOf(
        { host: address.host, port: typeof bound === 'object' && bound ? bound.port : address.port },
        options.config.api.tls ? 'https' : 'http',
      );
      const auth = configured ? 'bearer token' : generated ? `bearer token (made, in ${generated.path})` : 'none (loopback only)';
      options.log.info({ url, auth, tls: options.config.api.tls !== undefined }, `web UI and REST API at ${url}`);
      return {
        url,
        async close() {
          connections.stopRefreshing();
          await app.close();
        },
      };
    },
  };
}
