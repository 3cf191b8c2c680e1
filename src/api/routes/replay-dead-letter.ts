import { PostroomError } from '../../model/errors.ts';
import { replayNow } from '../replay-report.ts';
import { defineRoute, param } from '../route.ts';
import { errorSchema, replayResultSchema } from '../schemas.ts';

export const replayDeadLetter = defineRoute({
  method: 'POST',
  url: '/api/dead-letters/:id/replay',
  tag: 'dead letters',
  summary: 'Deliver one dead letter now and say what happened (delivered, or failed again: why, and the next attempt)',
  responses: { 200: { description: 'Replayed', schema: replayResultSchema }, 404: { description: 'No dead letter has that id', schema: errorSchema } },
  async handle(request, _reply, context) {
    const id = param(request, 'id');
    const message = await context.opened.store.getOutboxMessage(id);
    if (message?.state !== 'dead') throw new PostroomError('DEAD_LETTER_NOT_FOUND', `"${id}"`);
    return replayNow(context, [id]);
  },
});
