/** One email's trail by its id (`GET /api/emails/:id`, `postroom trace --email`): EMAIL_NOT_FOUND names a malformed id and an unknown one apart. */
import { parseEmailId } from '../model/email-id.ts';
import { PostroomError } from '../model/errors.ts';
import type { EmailTrail, Store } from '../store/store.ts';

export async function findEmailTrail(store: Store, id: string): Promise<EmailTrail> {
  const parsed = parseEmailId(id);
  if (!parsed)
    throw new PostroomError('EMAIL_NOT_FOUND', `"${id}" is not an email id`, {
      hint: 'Ids come from a search: GET /api/emails or postroom trace',
    });
  const trail = await store.emailTrail(parsed.connection, parsed.sourceKey);
  if (!trail)
    throw new PostroomError('EMAIL_NOT_FOUND', `connection ${parsed.connection} has no email ${parsed.sourceKey} in its ledger`, {
      hint: 'An id names the connection, so it changes when the connection is renamed; search again with GET /api/emails or postroom trace',
    });
  return trail;
}
