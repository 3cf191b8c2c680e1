import { replayNow } from '../replay-report.ts';
import { defineRoute } from '../route.ts';
import { replayResultSchema } from '../schemas.ts';

/** Dead letters one request replays; the rest stay on their schedule (call again). */
export const REPLAY_ALL_LIMIT = 1_000;

export const replayAllDeadLetters = defineRoute({
  method: 'POST',
  url: '/api/dead-letters/replay-all',
  tag: 'dead letters',
  summary: `Deliver every dead letter now (up to ${REPLAY_ALL_LIMIT} a call) and say what happened to each`,
  responses: { 200: { description: 'What each replay did', schema: replayResultSchema } },
  async handle(_request, _reply, context) {
    const dead = await context.opened.store.listDeadLetters({ limit: REPLAY_ALL_LIMIT });
    return replayNow(
      context,
      dead.map((message) => message.id),
    );
  },
});
