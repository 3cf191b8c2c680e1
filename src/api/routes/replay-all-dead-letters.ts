import { defineRoute } from '../route.ts';
import { replayResultSchema } from '../schemas.ts';

export const replayAllDeadLetters = defineRoute({
  method: 'POST',
  url: '/api/dead-letters/replay-all',
  tag: 'dead letters',
  summary: 'Make every dead letter due now',
  responses: { 200: { description: 'How many were replayed', schema: replayResultSchema } },
  async handle(_request, _reply, { opened, clock, worker }) {
    const replayed = await opened.store.replayDeadLetters('all', clock.now());
    worker?.delivery.nudge();
    return { replayed };
  },
});
