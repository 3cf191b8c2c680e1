/**
 * File names for emitted parts. The decoded name travels in the envelope and destinations may
 * use it on disk, so it must not be able to name a directory or carry control characters;
 * otherwise it is kept as the sender wrote it.
 */
import libmime from 'libmime';

/** Most file systems cap a name at 255 bytes; leave room for a suffix a destination may add. */
const MAX_SUBJECT_NAME_BYTES = 200;

export const BODY_TEXT_NAME = 'body.txt';
export const BODY_HTML_NAME = 'body.html';
/** An Outlook body that is RTF only (compressed RTF in winmail.dat that encapsulates no HTML or text). */
export const BODY_RTF_NAME = 'body.rtf';
export const CALENDAR_NAME = 'invite.ics';
export const ORIGINAL_NAME = 'original.eml';

/** Path separators and control characters (NUL included) become `_`; blank names become null. */
export function cleanFileName(name: string | undefined): string | null {
  if (name === undefined) return null;
  const cleaned = name.replace(/[\u0000-\u001f\u007f/\\]/g, '_').trim();
  return /^[_.\s]*$/.test(cleaned) ? null : cleaned;
}

/** `attachment-<n>.<ext>` for a part that came without a name, the extension from its type. */
export function fallbackAttachmentName(partIndex: number, contentType: string): string {
  return `attachment-${partIndex}.${libmime.detectExtension(contentType) || 'bin'}`;
}

/** `<subject>.eml` for a forwarded email, or `attached-<n>.eml` when it has no usable subject. */
export function embeddedEmailName(partIndex: number, subject: string | null): string {
  const base = subject === null ? null : cleanFileName(subject.replace(/[<>:"|?*]/g, '_'));
  if (base === null) return `attached-${partIndex}.eml`;
  return `${truncateUtf8(base, MAX_SUBJECT_NAME_BYTES)}.eml`;
}

/** Cuts on a code point boundary so a multibyte character is never split in half. */
function truncateUtf8(text: string, maxBytes: number): string {
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    bytes += Buffer.byteLength(char);
    if (bytes > maxBytes) break;
    end += char.length;
  }
  return text.slice(0, end).trim();
}
