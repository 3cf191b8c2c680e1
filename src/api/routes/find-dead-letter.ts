import { PostroomError } from '../../model/errors.ts';
import type { OutboxMessage, Store } from '../../store/store.ts';

export async function findDeadLetter(store: Store, id: string): Promise<OutboxMessage> {
  const message = await store.getOutboxMessage(id);
  if (message?.state !== 'dead') throw new PostroomError('DEAD_LETTER_NOT_FOUND', `"${id}"`);
  return message;
}
