/**
 * What the top-level headers say about who sent an email: a machine replying on its own
 * (autoReply) or a mailing list (list). Read from the raw header lines, so an email that
 * cannot be split still carries them.
 *
 * Auto-replies, in the order they are looked for:
 * - `Auto-Submitted` (RFC 3834 5) with any value but `no`: auto-replied (out-of-office and
 *   vacation responders, Exchange and Microsoft 365 among them), auto-generated, auto-notified;
 * - `X-Autoreply` and `X-Autorespond`, which older responders (vacation programs, cPanel/Exim
 *   autoresponders) send instead, with any value;
 * - `Precedence: auto_reply`, `bulk` or `junk`, the older convention RFC 3834 3.1.8 describes.
 *   `Precedence: list` is a list's own marker, not an auto-reply.
 * Exchange's out-of-office replies carry `Auto-Submitted`; when they come as TNEF, their message
 * class IPM.Note.Rules.OofTemplate.Microsoft says the same (read in tnef.ts). Two Exchange headers
 * are deliberately NOT taken as markers: `X-Auto-Response-Suppress` is a request by the sender
 * that others not auto-reply to it (MS-OXCMAIL 2.1.3.2.20) and newsletters send it, and
 * `X-MS-Exchange-Inbox-Rules-Loop` is also set on emails an inbox rule merely forwarded or
 * redirected, which are the user's real mail.
 */
import type { EnvelopeEmail } from '../model/envelope.ts';

const FLAG_HEADERS = ['x-autoreply', 'x-autorespond'] as const;
const AUTO_PRECEDENCE: ReadonlySet<string> = new Set(['auto_reply', 'bulk', 'junk']);
/** The message class Exchange gives an out-of-office reply (MS-OXOMSG). */
export const OOF_MESSAGE_CLASS = 'IPM.Note.Rules.OofTemplate.Microsoft';

type Lookup = (key: string) => string | null;

export function autoReplyMarker(header: Lookup): EnvelopeEmail['autoReply'] {
  const submitted = header('auto-submitted');
  if (submitted !== null) {
    const keyword = submitted
      .split(';')[0]!
      .replace(/\(.*?\)/g, '')
      .trim()
      .toLowerCase();
    if (keyword !== '' && keyword !== 'no') return { marker: `Auto-Submitted: ${submitted}` };
  }
  for (const key of FLAG_HEADERS) {
    const value = header(key);
    if (value !== null) return { marker: `${key === 'x-autoreply' ? 'X-Autoreply' : 'X-Autorespond'}: ${value}` };
  }
  const precedence = header('precedence');
  if (precedence !== null && AUTO_PRECEDENCE.has(precedence.trim().toLowerCase())) return { marker: `Precedence: ${precedence}` };
  return undefined;
}

/** RFC 2919: `List-Id: Optional phrase <list-label.list-domain>`; the id is what is between the angle brackets. */
export function listOf(header: Lookup): EnvelopeEmail['list'] {
  const value = header('list-id');
  if (value === null) return undefined;
  const match = /<([^<>]+)>/.exec(value);
  const id = (match ? match[1]! : value).trim();
  if (id === '') return undefined;
  const name = match ? unquote(value.slice(0, match.index).trim()) : '';
  return name ? { id, name } : { id };
}

function unquote(phrase: string): string {
  const quoted = /^"(.*)"$/.exec(phrase);
  return quoted ? quoted[1]!.replace(/\\(.)/g, '$1') : phrase;
}
