/**
 * The Subject of a forwarded email (a message/rfc822 part), which names its `.eml` file.
 */
import libmime from 'libmime';

/**
 * Headers of real emails (Received chains, DKIM signatures) stay well under 64 KiB; a Subject
 * that comes later than that is not worth holding more of the part in memory for.
 */
export const EMBEDDED_HEAD_BYTES = 64 * 1024;

export function embeddedSubject(head: Buffer): string | null {
  const text = head.toString('utf8');
  const end = text.search(/\r?\n\r?\n/);
  const headers = (end === -1 ? text : text.slice(0, end)).replace(/\r?\n(?=[ \t])/g, '');
  const match = /^subject:[ \t]*(.*)$/im.exec(headers);
  if (!match?.[1]) return null;
  const subject = decodeWords(match[1]).trim();
  return subject === '' ? null : subject;
}

function decodeWords(value: string): string {
  try {
    return libmime.decodeWords(value);
  } catch {
    // An unknown charset in an encoded word: the raw text still names the file well enough.
    return value;
  }
}
