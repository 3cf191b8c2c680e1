import { defineRoute } from '../route.ts';

export const metrics = defineRoute({
  method: 'GET',
  url: '/metrics',
  tag: 'operations',
  public: true,
  summary: 'Prometheus metrics, labelled by connection (no token needed)',
  responses: { 200: { description: 'Prometheus text format', contentType: 'text/plain; version=0.0.4' } },
  async handle(_request, reply, context) {
    const text = await context.metrics.render(context.opened.store, context.connections.all(), context.clock.now());
    reply.header('content-type', context.metrics.contentType);
    return text;
  },
});
