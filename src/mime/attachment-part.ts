/**
 * One attachment, streamed into the content store as the parser decodes it, and described:
 * its own content type, its decoded file name (or a made-up one), Content-ID, calendar method.
 */
import type { AttachmentStream, HeaderValue, StructuredHeader } from 'mailparser';
import type { ContentStore } from '../model/content-store.ts';
import { binhexName } from './binhex.ts';
import { CALENDAR_HEAD_BYTES, calendarMethod, isCalendar } from './calendar-method.ts';
import { bareContentId } from './cid-references.ts';
import type { PartInfo } from './email-parser.ts';
import { EMBEDDED_HEAD_BYTES, embeddedSubject } from './embedded-subject.ts';
import { CALENDAR_NAME, cleanFileName, embeddedEmailName, fallbackAttachmentName } from './file-names.ts';
import { captureHead } from './head-capture.ts';
import type { SplitPart } from './split-part.ts';

const EMBEDDED_EMAIL_TYPE = 'message/rfc822';
const BINHEX_TYPE = 'application/mac-binhex40';
/** The BinHex header (name and file info) is in the first hundred characters after the `(This file must be converted ...)` line. */
const BINHEX_HEAD_BYTES = 4096;

/** Names for nameless parts whose type says what they are better than `attachment-<n>.<ext>` would. */
const WELL_KNOWN_NAMES: ReadonlyMap<string, string> = new Map([
  ['application/pgp-signature', 'signature.asc'],
  ['application/pkcs7-signature', 'smime.p7s'],
  ['application/x-pkcs7-signature', 'smime.p7s'],
  ['application/pkcs7-mime', 'smime.p7m'],
  ['application/x-pkcs7-mime', 'smime.p7m'],
  ['application/pgp-encrypted', 'pgp-encrypted.txt'],
  ['message/delivery-status', 'delivery-status.txt'],
  ['message/global-delivery-status', 'delivery-status.txt'],
  ['message/disposition-notification', 'disposition-notification.txt'],
  ['message/global-disposition-notification', 'disposition-notification.txt'],
  ['message/feedback-report', 'feedback-report.txt'],
  ['text/rfc822-headers', 'original-headers.txt'],
  ['message/global-headers', 'original-headers.txt'],
]);

type Shape = 'calendar' | 'email' | 'binhex' | 'file';

export async function writeAttachment(attachment: AttachmentStream, partIndex: number, content: ContentStore, info?: PartInfo): Promise<SplitPart> {
  const declared = declaredType(attachment);
  const shape = shapeOf(declared.value, attachment.filename);
  const capture = shape === 'file' ? undefined : captureHead(attachment.content, headLimit(shape));
  const written = await content.write(capture ?? attachment.content);
  const head = capture?.head ?? Buffer.alloc(0);
  const method = shape === 'calendar' ? calendarMethod(declared.params['method'], head) : undefined;
  const contentId = bareContentId(attachment.contentId);
  // A uuencoded part's name may be on its begin line only; it is known once the part is read.
  const name = cleanFileName(attachment.filename) ?? cleanFileName(baseName(info?.uu?.beginName));
  const undecodedEncoding = info?.undecodedEncoding ?? (info?.uu?.undecoded ? 'x-uuencode' : undefined);
  return {
    kind: 'attachment',
    partIndex,
    filename: name ?? madeUpName(shape, partIndex, declared.value, head),
    contentType: formatContentType(declared),
    contentRef: written.ref,
    size: written.size,
    sha256: written.sha256,
    inline: false,
    ...(contentId === undefined ? {} : { contentId }),
    ...(method === undefined ? {} : { method }),
    ...(undecodedEncoding === undefined ? {} : { undecodedEncoding }),
  };
}

/** The last segment of a path a sender's client wrote into a name (`C:\\files\\a.png`). */
export function baseName(name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  const cut = Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\'));
  return name.slice(cut + 1);
}

/** The type the part declares; mailparser's own `contentType` swaps octet-stream for a guess. */
export function declaredType(attachment: AttachmentStream): StructuredHeader {
  const header = attachment.headers.get('content-type');
  if (isStructured(header) && header.value) {
    return { value: header.value.toLowerCase().trim(), params: header.params };
  }
  return { value: attachment.contentType.toLowerCase(), params: {} };
}

function isStructured(value: HeaderValue | undefined): value is StructuredHeader {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'value' in value && 'params' in value;
}

function shapeOf(type: string, filename: string | undefined): Shape {
  if (isCalendar(type, filename)) return 'calendar';
  if (type === BINHEX_TYPE && !filename) return 'binhex';
  return type === EMBEDDED_EMAIL_TYPE ? 'email' : 'file';
}

function headLimit(shape: Shape): number {
  if (shape === 'binhex') return BINHEX_HEAD_BYTES;
  return shape === 'calendar' ? CALENDAR_HEAD_BYTES : EMBEDDED_HEAD_BYTES;
}

function madeUpName(shape: Shape, partIndex: number, type: string, head: Buffer): string {
  if (shape === 'calendar') return CALENDAR_NAME;
  if (shape === 'email') return embeddedEmailName(partIndex, embeddedSubject(head));
  if (shape === 'binhex') {
    // Still BinHex-encoded: the name inside plus .hqx, as Mac tools expect it.
    const inner = cleanFileName(binhexName(head));
    if (inner) return `${inner}.hqx`;
  }
  return WELL_KNOWN_NAMES.get(type) ?? fallbackAttachmentName(partIndex, type);
}

/** Only the parameters a consumer needs to read the bytes: the charset, and a calendar's method. */
function formatContentType(type: StructuredHeader): string {
  const charset = type.params['charset']?.trim();
  const method = type.params['method']?.trim();
  return [type.value, charset ? `charset=${charset}` : '', method ? `method=${method}` : ''].filter(Boolean).join('; ');
}
