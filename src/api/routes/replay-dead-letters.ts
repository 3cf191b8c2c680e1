import { selectedDeadLetters } from '../dead-letter-selection.ts';
import { replayNow } from '../replay-report.ts';
import { defineRoute } from '../route.ts';
import { deadLetterSelectionSchema, errorSchema, replayResultSchema } from '../schemas.ts';
import { parseWith } from '../validation.ts';

export const replayDeadLetters = defineRoute({
  method: 'POST',
  url: '/api/dead-letters/replay',
  tag: 'dead letters',
  summary: 'Deliver several dead letters, or every dead letter of one email, now and say what happened to each',
  body: { schema: deadLetterSelectionSchema, required: true },
  responses: {
    200: { description: 'What each replay did', schema: replayResultSchema },
    400: { description: 'Neither ids nor an email given', schema: errorSchema },
    404: { description: 'The email is not an email id', schema: errorSchema },
  },
  async handle(request, _reply, context) {
    const store = context.opened.store;
    const asked = await selectedDeadLetters(store, parseWith(deadLetterSelectionSchema, request.body));
    // Only dead letters: a delivered or pending id is not this route's to send again.
    const dead = (await Promise.all(asked.map((id) => store.getOutboxMessage(id)))).filter((message) => message?.state === 'dead').map((m) => m!.id);
    return replayNow(context, dead);
  },
});
