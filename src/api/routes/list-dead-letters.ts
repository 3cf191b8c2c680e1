import { z } from 'zod';
import { defineRoute } from '../route.ts';
import { deadLetterSchema } from '../schemas.ts';
import { parseWith } from '../validation.ts';
import { toDeadLetterView } from './dead-letter-view.ts';

/** The list is for people; past this, filter or page. */
const MAX_LIST = 1000;

const query = z.object({
  connection: z.string().min(1).optional().meta({ description: "Only this connection's" }),
  destination: z.string().min(1).optional().meta({ description: "Only those for this destination's" }),
  limit: z.coerce.number().int().min(1).max(MAX_LIST).default(MAX_LIST).meta({ description: 'At most this many' }),
  offset: z.coerce.number().int().min(0).default(0).meta({ description: 'Skip this many first (paging: 0, limit, 2 × limit, …)' }),
});

export const listDeadLetters = defineRoute({
  method: 'GET',
  url: '/api/dead-letters',
  tag: 'dead letters',
  summary: 'Pipeline messages that could not be delivered (catastrophic retry), oldest first, those of one email side by side',
  description: 'X-Total-Count says how many match the filter in all, so a page of `limit` from `offset` can say "51–100 of 312".',
  query,
  responses: {
    200: {
      description: 'The dead letters',
      schema: z.array(deadLetterSchema),
      headers: { 'X-Total-Count': { description: 'Dead letters matching connection and destination, on every page', type: 'integer' } },
    },
  },
  async handle(request, reply, { opened }) {
    const { connection, destination, limit, offset } = parseWith(query, request.query);
    const filter = { ...(connection ? { connection } : {}), ...(destination ? { destination } : {}) };
    const [dead, total] = await Promise.all([opened.store.listDeadLetters({ ...filter, limit, offset }), opened.store.countDeadLetters(filter)]);
    void reply.header('x-total-count', String(total));
    return dead.map(toDeadLetterView);
  },
});
