import { errorMessage } from '../../model/errors.ts';
import { defineRoute } from '../route.ts';
import { healthSchema } from '../schemas.ts';

export const healthz = defineRoute({
  method: 'GET',
  url: '/healthz',
  tag: 'operations',
  public: true,
  summary: 'Liveness: the process is up and the store answers (no token needed)',
  responses: { 200: { description: 'Healthy', schema: healthSchema }, 503: { description: 'The store does not answer', schema: healthSchema } },
  async handle(_request, reply, { opened, log }) {
    try {
      await opened.store.ping();
      return { status: 'ok', store: 'ok' };
    } catch (error) {
      log.warn({ err: error }, 'health check: the store does not answer');
      reply.code(503);
      return { status: 'unavailable', store: errorMessage(error) };
    }
  },
});
