/** GET /api/connections/:name/activity: one connection's emails and pipeline messages per hour over the last day, for its page's plot. */
import { PostroomError } from '../../model/errors.ts';
import { defineRoute, param } from '../route.ts';
import { type ConnectionActivity, connectionActivitySchema, errorSchema } from '../schemas.ts';

const HOUR_MS = 3_600_000;
/** The store keeps a day of poll history. */
const HOURS = 24;

export const getConnectionActivity = defineRoute({
  method: 'GET',
  url: '/api/connections/:name/activity',
  tag: 'connections',
  summary: "One connection's emails and pipeline messages per hour over the last 24 hours",
  responses: {
    200: { description: 'Hourly counts, oldest first', schema: connectionActivitySchema },
    404: { description: 'No connection has that name', schema: errorSchema },
  },
  async handle(request, _reply, { connections, opened, clock }): Promise<ConnectionActivity> {
    const name = param(request, 'name');
    if (!connections.get(name)) throw new PostroomError('CONNECTION_NOT_FOUND', `"${name}"`);
    // 24 whole hours ending with the current one.
    const start = (Math.floor(clock.now() / HOUR_MS) - (HOURS - 1)) * HOUR_MS;
    const buckets = await opened.store.pollActivity(start, HOUR_MS, name);
    const emails = new Array<number>(HOURS).fill(0);
    const messages = new Array<number>(HOURS).fill(0);
    for (const bucket of buckets) {
      const index = Math.floor((bucket.at - start) / HOUR_MS);
      if (index < 0 || index >= HOURS) continue;
      emails[index] = bucket.emails;
      messages[index] = bucket.messages;
    }
    return { connection: name, start: new Date(start).toISOString(), bucketMs: HOUR_MS, emails, messages };
  },
});
