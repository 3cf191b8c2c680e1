import { z } from 'zod';
import { defineRoute } from '../route.ts';
import { statusSchema } from '../schemas.ts';
import { buildStatus, DEFAULT_ACTIVITY_HOURS, MAX_ACTIVITY_HOURS } from '../status-report.ts';
import { parseWith } from '../validation.ts';

const query = z.object({ hours: z.coerce.number().int().min(1).max(MAX_ACTIVITY_HOURS).default(DEFAULT_ACTIVITY_HOURS) });

export const getStatus = defineRoute({
  method: 'GET',
  url: '/api/status',
  tag: 'status',
  summary: 'What every connection is doing: last and next poll, lease, throttling, outbox, dead letters; per-minute activity',
  query,
  responses: { 200: { description: 'The status board', schema: statusSchema } },
  async handle(request, _reply, context) {
    const { hours } = parseWith(query, request.query);
    return buildStatus(context, hours);
  },
});
