/**
 * The control plane's HTTP server (Fastify, HTTPS with api.tls): the REST API under /api (bearer
 * token, checked on the matched route), the web UI at /, the OpenAPI document and docs, /healthz
 * and /metrics. CORS is off (no CORS headers are ever sent, so browsers keep other origins out),
 * Host, Origin and simple mutations are checked (request-guard.ts), bodies are size-limited,
 * failed logins are rate limited, mutations and refusals are logged (audit-log.ts), and errors
 * come back as `{ error, message, issues? }`.
 */
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import { ConfigInvalid } from '../config/load-config.ts';
import type { Config } from '../config/schema.ts';
import type { Worker } from '../engine/worker.ts';
import { type Clock, systemClock } from '../model/clock.ts';
import { PostroomError } from '../model/errors.ts';
import type { OpenedStore } from '../store/open-store.ts';
import { logMutation, logRefusal, recordCaller } from './audit-log.ts';
import { authorize, isPublicRoute, PUBLIC_ROUTE } from './auth.ts';
import type { ConnectionRegistry } from './connection-registry.ts';
import { registerDocs } from './docs.ts';
import { LoginLimiter } from './login-limiter.ts';
import { PostroomMetrics } from './metrics.ts';
import { buildOpenApi } from './openapi.ts';
import { guardMutation, guardOrigin } from './request-guard.ts';
import type { ApiContext } from './route.ts';
import { ROUTES } from './routes/index.ts';
import { readTlsFiles } from './tls-files.ts';
import { registerUi } from './ui/serve-ui.ts';
import { RequestInvalid } from './validation.ts';

/** A connection with an inline CA bundle is a few KiB; nothing the API takes comes near this. */
export const BODY_LIMIT_BYTES = 256 * 1024;
const API_VERSION = '1';

export interface ApiServerOptions {
  config: Config;
  opened: OpenedStore;
  worker?: Worker;
  log: Logger;
  connections: ConnectionRegistry;
  /** Pass the one whose hooks the worker calls, so counters move; a fresh one otherwise. */
  metrics?: PostroomMetrics;
  clock?: Clock;
  /** POST /api/destinations/reload (the service's, when it was started from a config file). */
  reloadDestinations?: ApiContext['reloadDestinations'];
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

export function createApiServer(options: ApiServerOptions): FastifyInstance {
  const clock = options.clock ?? systemClock;
  const log = options.log.child({ component: 'api' });
  const context: ApiContext = {
    config: options.config,
    opened: options.opened,
    log,
    connections: options.connections,
    metrics: options.metrics ?? new PostroomMetrics(),
    clock,
    ...(options.worker ? { worker: options.worker } : {}),
    ...(options.reloadDestinations ? { reloadDestinations: options.reloadDestinations } : {}),
  };
  const token = options.config.api.token || undefined;
  const limiter = new LoginLimiter(clock);
  const tls = readTlsFiles(options.config.api.tls);
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: false,
    ...(tls ? { https: tls } : {}),
  }) as unknown as FastifyInstance;

  // Runs after routing, so it sees the route that matched, however the path was spelled.
  app.addHook('onRequest', async (request, reply) => {
    reply.headers(SECURITY_HEADERS);
    try {
      guardOrigin(request, token !== undefined);
      if (!isPublicRoute(request)) {
        reply.header('cache-control', 'no-store');
        authorize(request, token, limiter);
      }
      guardMutation(request);
      recordCaller(request, token !== undefined);
    } catch (error) {
      if (error instanceof PostroomError) logRefusal(request, error);
      throw error;
    }
  });
  app.addHook('onResponse', async (request, reply) => logMutation(request, reply));

  app.setErrorHandler((error: FastifyError | PostroomError, request, reply) => {
    if (error instanceof RequestInvalid) return reply.code(400).send({ error: error.code, message: error.message, issues: error.issues });
    // The config file (a reload): validate's whole message, and each field with its line and fix.
    if (error instanceof ConfigInvalid)
      return reply.code(400).send({
        error: error.code,
        message: error.explain(),
        issues: error.problems.map((problem) => ({ path: problem.path, message: `${problem.line ? `line ${problem.line}: ` : ''}${problem.message}` })),
      });
    if (error instanceof PostroomError) {
      if (error.retryAfterMs !== undefined) reply.header('retry-after', String(Math.ceil(error.retryAfterMs / 1000)));
      // Only a missing or wrong token is a 401 here; a mail server refusing a login is a bad gateway.
      const status = error.code === 'UNAUTHORIZED' ? 401 : error.status === 401 ? 502 : error.status;
      if (status >= 500) request.log.warn({ code: error.code, err: error }, 'API request failed');
      return reply.code(status).send({ error: error.code, message: error.explain() });
    }
    const status = (error as FastifyError).statusCode;
    if (status !== undefined && status >= 400 && status < 500)
      return reply.code(status).send({ error: (error as FastifyError).code ?? 'BAD_REQUEST', message: error.message });
    request.log.error({ err: error }, 'API request failed');
    return reply.code(500).send({ error: 'INTERNAL', message: 'internal error; the service log has the details' });
  });

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: 'NOT_FOUND', message: `no route for ${request.method} ${request.url.split('?')[0]}` }),
  );

  for (const route of ROUTES) {
    app.route({
      method: route.method,
      url: route.url,
      ...(route.public ? { config: PUBLIC_ROUTE } : {}),
      handler: (request, reply) => route.handle(request, reply, context),
    });
  }
  registerDocs(app, buildOpenApi(ROUTES, { title: 'Postroom', version: API_VERSION }));
  registerUi(app, { tokenRequired: token !== undefined });
  return app;
}
