import { PostroomError } from '../../model/errors.ts';
import { defineRoute, param } from '../route.ts';
import { errorSchema, replayResultSchema } from '../schemas.ts';

export const replayDeadLetter = defineRoute({
  method: 'POST',
  url: '/api/dead-letters/:id/replay',
  tag: 'dead letters',
  summary: 'Make one dead letter due now; the running worker delivers it',
  responses: { 200: { description: 'Replayed', schema: replayResultSchema }, 404: { description: 'No dead letter has that id', schema: errorSchema } },
  async handle(request, _reply, { opened, clock, worker }) {
    const id = param(request, 'id');
    const replayed = await opened.store.replayDeadLetters([id], clock.now());
    if (replayed === 0) throw new PostroomError('DEAD_LETTER_NOT_FOUND', `"${id}"`);
    worker?.delivery.nudge();
    return { replayed };
  },
});
