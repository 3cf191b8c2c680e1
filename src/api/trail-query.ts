/**
 * An email-trail search as `GET /api/emails` takes it and `postroom trace` passes it on: the same
 * zod schema checks both, so a bad `since` is refused in the same words on either side.
 */
import { z } from 'zod';
import { parseTrailBound, TRAIL_PERIOD_FORM } from '../model/trail-period.ts';
import { DEFAULT_TRAIL_LIMIT, MAX_TRAIL_LIMIT } from '../store/sql/trail.ts';
import type { TrailEmail, TrailPosition, TrailQuery } from '../store/store.ts';
import { EMAIL_STATES } from './trail-words.ts';

const text = z.string().trim().min(1).optional();
const bound = (name: 'since' | 'until', description: string) =>
  z
    .string()
    .refine((value) => parseTrailBound(value, name) !== undefined, { message: `expected ${TRAIL_PERIOD_FORM}` })
    .optional()
    .meta({ description });

/** A page's cursor: where its last email is in the search's order, base64url (opaque to callers). */
export function trailCursor(email: Pick<TrailEmail, 'pickedUpAt' | 'connection' | 'sourceKey'>): string {
  return Buffer.from(JSON.stringify([email.pickedUpAt, email.connection, email.sourceKey])).toString('base64url');
}

function parseCursor(cursor: string): TrailPosition | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(value) || value.length !== 3) return undefined;
    const [pickedUpAt, connection, sourceKey] = value as unknown[];
    if (!Number.isSafeInteger(pickedUpAt) || typeof connection !== 'string' || typeof sourceKey !== 'string') return undefined;
    return { pickedUpAt: pickedUpAt as number, connection, sourceKey };
  } catch {
    return undefined;
  }
}

export const trailQuerySchema = z.object({
  q: text.meta({ description: 'Words that must each appear in the sender, the subject or the Message-ID (any case)' }),
  messageId: text.meta({ description: 'The Message-ID, with or without the angle brackets' }),
  from: text.meta({ description: 'Part of the sender, e.g. supplier.example' }),
  subject: text.meta({ description: 'Words that must each appear in the subject' }),
  since: bound('since', "Picked up at or after: an ISO 8601 date (that UTC day's midnight) or date-time with a zone"),
  until: bound('until', 'Picked up before: an ISO 8601 date (that whole UTC day included) or date-time with a zone'),
  connection: text,
  state: z.enum(EMAIL_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_TRAIL_LIMIT).default(DEFAULT_TRAIL_LIMIT).meta({ description: 'Emails per page' }),
  after: z
    .string()
    .refine((value) => parseCursor(value) !== undefined, { message: 'expected the `next` cursor of an earlier page of this search' })
    .optional()
    .meta({ description: 'The next page: the `next` cursor the previous page answered, with the same search parameters' }),
});

export type TrailQueryInput = z.input<typeof trailQuerySchema>;

/** The store's query for a checked search. */
export function toTrailQuery(parsed: z.output<typeof trailQuerySchema>): TrailQuery {
  const query: TrailQuery = { limit: parsed.limit };
  if (parsed.q) query.text = parsed.q;
  if (parsed.messageId) query.messageId = parsed.messageId;
  if (parsed.from) query.from = parsed.from;
  if (parsed.subject) query.subject = parsed.subject;
  if (parsed.since) query.since = parseTrailBound(parsed.since, 'since')!;
  if (parsed.until) query.until = parseTrailBound(parsed.until, 'until')!;
  if (parsed.connection) query.connection = parsed.connection;
  if (parsed.state) query.state = parsed.state;
  if (parsed.after) query.after = parseCursor(parsed.after)!;
  return query;
}
