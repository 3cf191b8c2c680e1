/**
 * The envelope as one HTTP header, kept under a size a receiver accepts. Web servers refuse
 * requests whose headers pass 8 KB (nginx, Apache, Node before 18.3) to 16 KB (Node now), and an
 * email to a few hundred people has an envelope far bigger than that (100 To and 100 Cc
 * addresses of 60 characters are 16 KB as base64url). When the envelope does not fit:
 *   1. the To and Cc lists are cut, halving until it fits; `toCount` / `ccCount` then give the
 *      real numbers (the envelope already says so when it lists only the first 100);
 *   2. then the long text fields (subject, sender, Message-ID, file name, content type, folder,
 *      parse error) are shortened to 200, then 40 characters, ending in "…";
 *   3. and if even that is too big, only the fields that identify the content are left.
 * The full envelope is in the body with `envelope: body`, and in the directory destination's .json.
 */
import type { Envelope } from '../model/envelope.ts';

const SHORTENED = [200, 40];

export interface EnvelopeHeader {
  value: string;
  /** True when the header holds less than the whole envelope. */
  shortened: boolean;
}

function encode(envelope: unknown): string {
  return Buffer.from(JSON.stringify(envelope), 'utf8').toString('base64url');
}

function shorten(text: string | null, max: number): string | null {
  if (text === null || text.length <= max) return text;
  return `${text.slice(0, max - 1)}…`;
}

function withRecipients(envelope: Envelope, count: number): Envelope {
  const { email } = envelope;
  const cut = (list: string[], total: number | undefined): { list: string[]; total: number | undefined } =>
    list.length > count ? { list: list.slice(0, count), total: total ?? list.length } : { list, total };
  const to = cut(email.to, email.toCount);
  const cc = cut(email.cc, email.ccCount);
  return {
    ...envelope,
    email: {
      ...email,
      to: to.list,
      cc: cc.list,
      ...(to.total !== undefined ? { toCount: to.total } : {}),
      ...(cc.total !== undefined ? { ccCount: cc.total } : {}),
    },
  };
}

function withShortText(envelope: Envelope, max: number): Envelope {
  const { email } = envelope;
  return {
    ...envelope,
    filename: shorten(envelope.filename, max)!,
    contentType: shorten(envelope.contentType, max)!,
    ...(envelope.parseError !== undefined ? { parseError: shorten(envelope.parseError, max)! } : {}),
    ...(envelope.contentId !== undefined ? { contentId: shorten(envelope.contentId, max)! } : {}),
    source: Object.fromEntries(
      Object.entries(envelope.source).map(([key, value]) => [key, typeof value === 'string' ? shorten(value, max) : value]),
    ) as Envelope['source'],
    email: {
      ...email,
      subject: shorten(email.subject, max),
      from: shorten(email.from, max),
      messageId: shorten(email.messageId, max),
      to: email.to.map((a) => shorten(a, max)!),
      cc: email.cc.map((a) => shorten(a, max)!),
    },
  };
}

export function envelopeHeader(envelope: Envelope, maxBytes: number): EnvelopeHeader {
  const whole = encode(envelope);
  if (whole.length <= maxBytes) return { value: whole, shortened: false };
  let current = envelope;
  for (let count = Math.max(envelope.email.to.length, envelope.email.cc.length); count > 0; ) {
    count = Math.floor(count / 2);
    current = withRecipients(envelope, count);
    const value = encode(current);
    if (value.length <= maxBytes) return { value, shortened: true };
  }
  for (const max of SHORTENED) {
    const value = encode(withShortText(current, max));
    if (value.length <= maxBytes) return { value, shortened: true };
  }
  const { id, connection, kind, partIndex, size, sha256, receivedAt } = envelope;
  return { value: encode({ id, connection, kind, partIndex, size, sha256, receivedAt }), shortened: true };
}
