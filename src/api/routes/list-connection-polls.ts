/** GET /api/connections/:name/polls: the connection's latest polls for its page, with the lease and the current throttle. */
import { z } from 'zod';
import { errorHint } from '../../model/error-hints.ts';
import { PostroomError } from '../../model/errors.ts';
import type { PollRecord } from '../../store/store.ts';
import { throttleAccount } from '../../throttle/account.ts';
import { defineRoute, param } from '../route.ts';
import { errorSchema, type PollHistory, pollHistorySchema } from '../schemas.ts';
import { parseWith } from '../validation.ts';

/** The store keeps a day of polls; a page shows 50 unless asked for more. */
const MAX_POLLS = 500;

const query = z.object({ limit: z.coerce.number().int().min(1).max(MAX_POLLS).default(50) });

const iso = (ms: number): string => new Date(ms).toISOString();

function outcome(poll: PollRecord): PollHistory['polls'][number]['outcome'] {
  if (!poll.ok) return 'failed';
  return poll.throttled ? 'throttled' : 'ok';
}

export const listConnectionPolls = defineRoute({
  method: 'GET',
  url: '/api/connections/:name/polls',
  tag: 'connections',
  summary: "A connection's latest polls, newest first (when, how long, emails, outcome, error and what helps), its lease holder and throttle",
  query,
  responses: { 200: { description: 'The polls', schema: pollHistorySchema }, 404: { description: 'No connection has that name', schema: errorSchema } },
  async handle(request, _reply, { connections, opened, clock }): Promise<PollHistory> {
    const name = param(request, 'name');
    const entry = connections.get(name);
    if (!entry) throw new PostroomError('CONNECTION_NOT_FOUND', `"${name}"`);
    const { limit } = parseWith(query, request.query);
    const now = clock.now();
    const [polls, leases, throttles] = await Promise.all([opened.store.recentPolls(name, limit), opened.store.listLeases(), opened.store.listThrottles()]);
    const lease = leases.find((candidate) => candidate.connection === name && candidate.expiresAt > now);
    const account = entry.config ? throttleAccount(entry.config) : undefined;
    const throttle = throttles.find((candidate) => candidate.account === account && candidate.until > now);
    return {
      connection: name,
      polls: polls.map((poll, index) => {
        // A throttled wait ends when the next poll starts (the list is newest first); the
        // latest wait ends when the account's current throttle does, if it still runs.
        const later = index > 0 ? polls[index - 1] : undefined;
        const until = poll.throttled ? (later?.startedAt ?? (throttle ? throttle.until : null)) : null;
        return {
          startedAt: iso(poll.startedAt),
          finishedAt: iso(poll.finishedAt),
          durationMs: poll.finishedAt - poll.startedAt,
          emails: poll.emails,
          messages: poll.messages,
          outcome: outcome(poll),
          error: poll.error,
          errorCode: poll.errorCode ?? null,
          hint: errorHint(poll.errorCode),
          holder: poll.holder,
          throttledUntil: until === null ? null : iso(until),
          askedBy: poll.askedBy ?? null,
        };
      }),
      lease: lease ? { holder: lease.holder, until: iso(lease.expiresAt) } : null,
      throttle: throttle ? { until: iso(throttle.until), reason: throttle.reason, since: iso(throttle.since) } : null,
    };
  },
});
