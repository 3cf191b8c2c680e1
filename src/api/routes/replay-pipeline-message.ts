import { PostroomError } from '../../model/errors.ts';
import { replayNow } from '../replay-report.ts';
import { defineRoute, param } from '../route.ts';
import { errorSchema, replayResultSchema } from '../schemas.ts';

export const replayPipelineMessage = defineRoute({
  method: 'POST',
  url: '/api/pipeline-messages/:id/replay',
  tag: 'emails',
  summary:
    'Send one pipeline message to its destination again, with the same id, and say what happened: a dead letter, or a delivered one a downstream system lost (while its content is kept: outbox.keepDeliveredContent)',
  responses: {
    200: { description: 'Replayed', schema: replayResultSchema },
    404: { description: 'No pipeline message has that id', schema: errorSchema },
    409: { description: 'Delivered, and its content is no longer kept', schema: errorSchema },
  },
  async handle(request, _reply, context) {
    const id = param(request, 'id');
    const message = await context.opened.store.getOutboxMessage(id);
    if (!message) throw new PostroomError('PIPELINE_MESSAGE_NOT_FOUND', `"${id}"`);
    if (message.state === 'discarded') throw new PostroomError('CONTENT_GONE', `"${id}" was discarded by hand, and its content with it`);
    if (message.state === 'delivered' && (message.contentUntil === null || message.contentUntil < context.clock.now())) {
      throw new PostroomError('CONTENT_GONE', `"${id}" was delivered ${new Date(message.deliveredAt ?? 0).toISOString()}`);
    }
    return replayNow(context, [id]);
  },
});
