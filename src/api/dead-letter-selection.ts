/** The dead letters a replay or a discard of several takes: the ids given, and every dead letter of the email given. */
import type { z } from 'zod';
import { parseEmailId } from '../model/email-id.ts';
import { PostroomError } from '../model/errors.ts';
import type { Store } from '../store/store.ts';
import type { deadLetterSelectionSchema } from './schemas.ts';

/** An email's dead letters one request takes (an email has one per part and destination). */
const EMAIL_LIMIT = 1_000;

export async function selectedDeadLetters(store: Store, selection: z.output<typeof deadLetterSelectionSchema>): Promise<string[]> {
  const ids = new Set(selection.ids ?? []);
  if (selection.email !== undefined) {
    const email = parseEmailId(selection.email);
    if (!email) throw new PostroomError('EMAIL_NOT_FOUND', `"${selection.email}" is not an email id`, { hint: 'Take it from a dead letter\'s "email"' });
    for (const message of await store.listDeadLetters({ ...email, limit: EMAIL_LIMIT })) ids.add(message.id);
  }
  return [...ids];
}
