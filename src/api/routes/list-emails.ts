import { toEmailView } from '../email-trail-view.ts';
import { defineRoute } from '../route.ts';
import { emailListSchema, errorSchema } from '../schemas.ts';
import { toTrailQuery, trailCursor, trailQuerySchema } from '../trail-query.ts';
import { parseWith } from '../validation.ts';

export const listEmails = defineRoute({
  method: 'GET',
  url: '/api/emails',
  tag: 'emails',
  summary: 'Emails Postroom picked up or left out, newest first, found by words, Message-ID, sender, subject, date, connection and state',
  description:
    'The email trail ("where did my email go?"), as `postroom trace` searches it. Every parameter narrows the search; none lists the newest. A page holds at most `limit` (at most 500); when `more` is true, the same search with `after` set to `next` answers the next page.',
  query: trailQuerySchema,
  responses: {
    200: { description: 'The matching emails', schema: emailListSchema },
    400: { description: 'A parameter is invalid (the message names it and the expected form)', schema: errorSchema },
  },
  async handle(request, _reply, { opened }) {
    const query = toTrailQuery(parseWith(trailQuerySchema, request.query));
    const page = await opened.store.searchEmails(query);
    const last = page.emails.at(-1);
    return { emails: page.emails.map(toEmailView), more: page.more, next: page.more && last ? trailCursor(last) : null };
  },
});
