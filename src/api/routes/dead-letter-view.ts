/** A dead letter as the API shows it: the envelope's useful fields, never the content ref. */
import { emailId } from '../../model/email-id.ts';
import type { OutboxMessage } from '../../store/store.ts';
import type { DeadLetterView } from '../schemas.ts';

export function toDeadLetterView(message: OutboxMessage): DeadLetterView {
  return {
    id: message.id,
    email: emailId(message.connection, message.sourceKey),
    connection: message.connection,
    destination: message.destination,
    kind: message.envelope.kind,
    filename: message.envelope.filename,
    contentType: message.envelope.contentType,
    size: message.envelope.size,
    subject: message.envelope.email.subject,
    from: message.envelope.email.from,
    attempts: message.attempts,
    nextAttemptAt: message.nextAttemptAt === null ? null : new Date(message.nextAttemptAt).toISOString(),
    lastError: message.lastError,
    createdAt: new Date(message.createdAt).toISOString(),
  };
}
