/**
 * An email and its trail as the API returns them and `postroom trace --json` prints them: times
 * as ISO 8601, the email's id, and a timeline that puts the pickup, the filter's verdict, the
 * acknowledgement and every delivery attempt in time order, in words an operator reads.
 */
import { emailId } from '../model/email-id.ts';
import type { DeliveryAttempt, EmailTrail, TrailEmail } from '../store/store.ts';
import type { EmailTrailView, EmailView } from './schemas.ts';
import type { TrailEvent } from './trail-words.ts';

const iso = (ms: number): string => new Date(ms).toISOString();
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));

export function toEmailView(email: TrailEmail): EmailView {
  return {
    id: emailId(email.connection, email.sourceKey),
    connection: email.connection,
    sourceKey: email.sourceKey,
    messageId: email.messageId,
    from: email.from,
    subject: email.subject,
    sentAt: isoOrNull(email.sentAt),
    size: email.size,
    pickedUpAt: iso(email.pickedUpAt),
    acknowledgedAt: isoOrNull(email.acknowledgedAt),
    acknowledgement: email.acknowledgement,
    state: email.state,
    ...(email.filtered ? { filtered: email.filtered } : {}),
    messages: email.messages,
  };
}

type TimelineEntry = EmailTrailView['timeline'][number];

const ATTEMPT_EVENTS: Record<DeliveryAttempt['outcome'], TrailEvent> = {
  delivered: 'delivered',
  failed: 'failed',
  dead: 'dead letter',
  replayed: 'replayed',
  discarded: 'discarded',
};

function attemptEntry(attempt: DeliveryAttempt): { at: number; entry: TimelineEntry } {
  // A replay's or a discard's detail is who asked ("the API", "the CLI"); the others are the destination's own words.
  const byHand = attempt.outcome === 'replayed' || attempt.outcome === 'discarded';
  const detail = byHand && attempt.detail ? `by ${attempt.detail}` : attempt.detail;
  return {
    at: attempt.at,
    entry: { at: iso(attempt.at), event: ATTEMPT_EVENTS[attempt.outcome], detail, destination: attempt.destination, messageId: attempt.outboxId },
  };
}

export function emailTimeline(trail: EmailTrail): TimelineEntry[] {
  const { email } = trail;
  const entries: Array<{ at: number; entry: TimelineEntry }> = [];
  if (email.filtered) {
    const { condition, reason } = email.filtered;
    entries.push({
      at: email.pickedUpAt,
      entry: { at: iso(email.pickedUpAt), event: 'left out by the filter', detail: reason ? `${condition}: ${reason}` : condition },
    });
  } else {
    entries.push({ at: email.pickedUpAt, entry: { at: iso(email.pickedUpAt), event: 'picked up', detail: `by connection ${email.connection}` } });
  }
  if (email.acknowledgedAt !== null)
    entries.push({ at: email.acknowledgedAt, entry: { at: iso(email.acknowledgedAt), event: 'acknowledged', detail: email.acknowledgement } });
  for (const attempt of trail.attempts) entries.push(attemptEntry(attempt));
  // Stable: at the same millisecond the pickup comes first, then the acknowledgement, then the attempts as recorded.
  return entries.sort((a, b) => a.at - b.at).map(({ entry }) => entry);
}

export function toEmailTrailView(trail: EmailTrail): EmailTrailView {
  return {
    email: toEmailView(trail.email),
    messages: trail.messages.map((message) => ({
      id: message.id,
      kind: message.envelope.kind,
      filename: message.envelope.filename,
      contentType: message.envelope.contentType,
      size: message.envelope.size,
      sha256: message.envelope.sha256,
      destination: message.destination,
      state: message.state,
      attempts: message.attempts,
      lastError: message.lastError,
      nextAttemptAt: isoOrNull(message.nextAttemptAt),
      // A discarded message was never delivered: when it was discarded is in the timeline.
      deliveredAt: message.state === 'delivered' ? isoOrNull(message.deliveredAt) : null,
      contentKeptUntil: message.state === 'delivered' ? isoOrNull(message.contentUntil) : null,
    })),
    attempts: trail.attempts.map((attempt) => ({
      messageId: attempt.outboxId,
      destination: attempt.destination,
      at: iso(attempt.at),
      outcome: attempt.outcome,
      detail: attempt.detail,
    })),
    timeline: emailTimeline(trail),
  };
}
