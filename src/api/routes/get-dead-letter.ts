import { defineRoute, param } from '../route.ts';
import { deadLetterDetailSchema, errorSchema } from '../schemas.ts';
import { toDeadLetterView } from './dead-letter-view.ts';
import { findDeadLetter } from './find-dead-letter.ts';

export const getDeadLetter = defineRoute({
  method: 'GET',
  url: '/api/dead-letters/:id',
  tag: 'dead letters',
  summary: 'One dead letter with its full envelope',
  responses: {
    200: { description: 'The dead letter', schema: deadLetterDetailSchema },
    404: { description: 'No dead letter has that id', schema: errorSchema },
  },
  async handle(request, _reply, { opened }) {
    const message = await findDeadLetter(opened.store, param(request, 'id'));
    const ledger = await opened.store.findLedger(message.connection, message.sourceKey);
    return { ...toDeadLetterView(message), envelope: message.envelope, rawAvailable: Boolean(ledger?.rawRef) };
  },
});
