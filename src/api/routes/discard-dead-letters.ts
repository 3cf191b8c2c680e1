import { selectedDeadLetters } from '../dead-letter-selection.ts';
import { discardDeadLettersNow } from '../discard-report.ts';
import { defineRoute } from '../route.ts';
import { deadLetterSelectionSchema, discardResultSchema, errorSchema } from '../schemas.ts';
import { parseWith } from '../validation.ts';

export const discardDeadLetters = defineRoute({
  method: 'POST',
  url: '/api/dead-letters/discard',
  tag: 'dead letters',
  summary: 'Give up for good on several dead letters, or on every dead letter of one email, and say which were discarded',
  body: { schema: deadLetterSelectionSchema, required: true },
  responses: {
    200: { description: 'What was discarded, and what was not (not a dead letter, or being delivered right now)', schema: discardResultSchema },
    400: { description: 'Neither ids nor an email given', schema: errorSchema },
    404: { description: 'The email is not an email id', schema: errorSchema },
  },
  async handle(request, _reply, context) {
    const ids = await selectedDeadLetters(context.opened.store, parseWith(deadLetterSelectionSchema, request.body));
    return discardDeadLettersNow(context, ids);
  },
});
