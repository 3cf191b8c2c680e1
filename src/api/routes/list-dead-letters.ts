import { z } from 'zod';
import { defineRoute } from '../route.ts';
import { deadLetterSchema } from '../schemas.ts';
import { parseWith } from '../validation.ts';
import { toDeadLetterView } from './dead-letter-view.ts';

/** The list is for people; past this, filter by connection. */
const MAX_LIST = 1000;

const query = z.object({ connection: z.string().min(1).optional(), limit: z.coerce.number().int().min(1).max(MAX_LIST).default(MAX_LIST) });

export const listDeadLetters = defineRoute({
  method: 'GET',
  url: '/api/dead-letters',
  tag: 'dead letters',
  summary: 'Pipeline messages that could not be delivered (catastrophic retry), oldest first',
  query,
  responses: { 200: { description: 'The dead letters', schema: z.array(deadLetterSchema) } },
  async handle(request, _reply, { opened }) {
    const { connection, limit } = parseWith(query, request.query);
    const dead = await opened.store.listDeadLetters({ limit, ...(connection ? { connection } : {}) });
    return dead.map(toDeadLetterView);
  },
});
