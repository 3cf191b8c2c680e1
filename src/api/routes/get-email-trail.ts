import { toEmailTrailView } from '../email-trail-view.ts';
import { findEmailTrail } from '../find-email-trail.ts';
import { defineRoute, param } from '../route.ts';
import { emailTrailViewSchema, errorSchema } from '../schemas.ts';

export const getEmailTrail = defineRoute({
  method: 'GET',
  url: '/api/emails/:id',
  tag: 'emails',
  summary: "One email's whole trail: what it was, its pipeline messages, every delivery attempt, and a timeline",
  description:
    'Pipeline messages and attempts are kept as long as their outbox rows (`outbox.keepDelivered` once delivered; dead letters until replayed and delivered); the email itself as long as the ledger.',
  responses: {
    200: { description: 'The trail', schema: emailTrailViewSchema },
    404: { description: 'The id is not an email id, or no email has it', schema: errorSchema },
  },
  async handle(request, _reply, { opened }) {
    return toEmailTrailView(await findEmailTrail(opened.store, param(request, 'id')));
  },
});
