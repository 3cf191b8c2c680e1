/**
 * The `email` block of every envelope: who sent the email, to whom, when and about what,
 * read from the top-level headers the parser has seen so far (possibly none, when the
 * email could not be parsed at all).
 */
import type { AddressObject, EmailAddress, HeaderLines } from 'mailparser';
import type { EnvelopeEmail } from '../model/envelope.ts';
import { autoReplyMarker, listOf } from './auto-reply.ts';

/** What the envelope needs from a parser; MailParser fills these once the top headers are read. */
export interface ParsedHeaders {
  headerLines: HeaderLines | false;
  subject?: string;
  from?: AddressObject;
  to?: AddressObject | AddressObject[];
  cc?: AddressObject | AddressObject[];
}

/**
 * Recipients listed per field in each envelope. Every pipeline message of an email carries the
 * envelope, so 10,000 recipients on a 266 KB email made 158 MB of envelopes; real emails have
 * far fewer than this, and the raw email still has them all.
 */
export const MAX_ENVELOPE_RECIPIENTS = 100;

export const NO_EMAIL_FIELDS: EnvelopeEmail = Object.freeze({
  messageId: null,
  from: null,
  to: [],
  cc: [],
  subject: null,
  date: null,
});

export function envelopeEmail(parsed: ParsedHeaders): EnvelopeEmail {
  const lines = parsed.headerLines || [];
  const to = formatAddresses(parsed.to);
  const cc = formatAddresses(parsed.cc);
  const email: EnvelopeEmail = {
    // Taken from the raw header rather than mailparser's messageId, which adds angle brackets
    // the header may not have had; ids and threading downstream compare the header as sent.
    messageId: rawHeaderValue(lines, 'message-id'),
    from: parsed.from?.text || null,
    to: to.slice(0, MAX_ENVELOPE_RECIPIENTS),
    cc: cc.slice(0, MAX_ENVELOPE_RECIPIENTS),
    subject: parsed.subject ?? null,
    // mailparser replaces an unreadable Date with "now", which would make the envelope differ
    // on every redelivery; the raw header gives null instead.
    date: isoDate(rawHeaderValue(lines, 'date')),
  };
  if (to.length > MAX_ENVELOPE_RECIPIENTS) email.toCount = to.length;
  if (cc.length > MAX_ENVELOPE_RECIPIENTS) email.ccCount = cc.length;
  const header = (key: string): string | null => rawHeaderValue(lines, key);
  const autoReply = autoReplyMarker(header);
  if (autoReply) email.autoReply = autoReply;
  const list = listOf(header);
  if (list) email.list = list;
  return email;
}

/** The first header named `key`, unfolded and trimmed, or null when absent or empty. */
export function rawHeaderValue(lines: HeaderLines, key: string): string | null {
  const line = lines.find((candidate) => candidate.key === key)?.line;
  if (line === undefined) return null;
  const colon = line.indexOf(':');
  const value = line
    .slice(colon + 1)
    .replace(/\r?\n(?=[ \t])/g, '')
    .trim();
  return value === '' ? null : value;
}

function isoDate(value: string | null): string | null {
  if (value === null) return null;
  const time = Date.parse(value);
  return Number.isNaN(time) ? null : new Date(time).toISOString();
}

function formatAddresses(header: AddressObject | AddressObject[] | undefined): string[] {
  if (header === undefined) return [];
  const objects = Array.isArray(header) ? header : [header];
  return objects.flatMap((object) => object.value.flatMap(flattenGroup)).map(formatAddress);
}

/** A group ("Team: a@x, b@y;") counts as its members; an empty group adds nobody. */
function flattenGroup(address: EmailAddress): EmailAddress[] {
  return address.group ? address.group.flatMap(flattenGroup) : [address];
}

/** `"Name" <address>`, quoted and escaped the way mailparser formats the From text. */
function formatAddress(address: EmailAddress): string {
  const mailbox = address.address ?? '';
  if (!address.name) return mailbox;
  const name = `"${address.name.replace(/["\\]/g, '\\$&')}"`;
  return mailbox ? `${name} <${mailbox}>` : name;
}
