/** POST /api/connections/:name/poll: poll now, without waiting for the interval, and say what the poll did. */
import { PostroomError } from '../../model/errors.ts';
import { controlledBy } from '../controlled-by.ts';
import { defineRoute, param } from '../route.ts';
import { errorSchema, pollResultSchema } from '../schemas.ts';

export const pollConnectionNow = defineRoute({
  method: 'POST',
  url: '/api/connections/:name/poll',
  tag: 'connections',
  summary: 'Poll a connection now and report what the poll did (emails, pipeline messages, error)',
  description:
    "Recorded with who asked and when in the connection's controls (GET /api/connections/{name}/controls); the next poll of the connection after the request is marked as asked for (askedBy in its polls).",
  responses: {
    200: { description: 'What the poll did', schema: pollResultSchema },
    404: { description: 'No connection has that name', schema: errorSchema },
    409: { description: 'The connection is paused or disabled', schema: errorSchema },
  },
  async handle(request, _reply, { worker, connections, opened, clock }) {
    const name = param(request, 'name');
    const base = { connection: name, emails: 0, messages: 0, error: null, holder: null, until: null };
    if (!worker) {
      if (!connections.list().some((entry) => entry.name === name)) throw new PostroomError('CONNECTION_NOT_FOUND', `"${name}"`);
      await opened.store.recordControl({ connection: name, action: 'poll', by: controlledBy(request), at: clock.now() });
      return { ...base, outcome: 'queued' };
    }
    const outcome = await worker.pollNow(name, controlledBy(request));
    if (outcome.status === 'leased-elsewhere') return { ...base, outcome: outcome.status, holder: outcome.holder };
    const counts = { emails: outcome.result?.emails ?? 0, messages: outcome.result?.messages ?? 0 };
    if (outcome.status === 'failed') return { ...base, ...counts, outcome: outcome.status, error: outcome.error.explain() };
    if (outcome.status === 'throttled')
      return { ...base, ...counts, outcome: outcome.status, error: `throttled: ${outcome.reason}`, until: new Date(outcome.until).toISOString() };
    return { ...base, ...counts, outcome: outcome.status };
  },
});
