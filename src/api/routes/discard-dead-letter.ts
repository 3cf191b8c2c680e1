import { discardDeadLettersNow } from '../discard-report.ts';
import { defineRoute, param } from '../route.ts';
import { discardResultSchema, errorSchema } from '../schemas.ts';
import { findDeadLetter } from './find-dead-letter.ts';

export const discardDeadLetter = defineRoute({
  method: 'POST',
  url: '/api/dead-letters/:id/discard',
  tag: 'dead letters',
  summary: 'Give up on one dead letter for good: its content goes, and the email trail says it was discarded and by whom',
  description:
    'Nothing is deleted silently: the pipeline message leaves the dead letters as `discarded`, with a `discarded` attempt in the email trail, kept for `outbox.keepDelivered` like a delivered one; its raw email is let go once nothing else needs it.',
  responses: {
    200: { description: 'Discarded (notDiscarded names it when a worker was delivering it right now)', schema: discardResultSchema },
    404: { description: 'No dead letter has that id', schema: errorSchema },
  },
  async handle(request, _reply, context) {
    const message = await findDeadLetter(context.opened.store, param(request, 'id'));
    return discardDeadLettersNow(context, [message.id]);
  },
});
