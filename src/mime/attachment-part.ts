/**
 * One attachment, streamed into the content store as the parser decodes it, and described:
 * its own content type, its decoded file name (or a made-up one), Content-ID, calendar method.
 */
import type { AttachmentStream, HeaderValue, StructuredHeader } from 'mailparser';
import type { ContentStore } from '../model/content-store.ts';
import { calendarMethod, CALENDAR_HEAD_BYTES, isCalendar } from './calendar-method.ts';
import { bareContentId } from './cid-references.ts';
import { EMBEDDED_HEAD_BYTES, embeddedSubject } from './embedded-subject.ts';
import { CALENDAR_NAME, cleanFileName, embeddedEmailName, fallbackAttachmentName } from './file-names.ts';
import { captureHead } from './head-capture.ts';
import type { SplitPart } from './split-part.ts';

const EMBEDDED_EMAIL_TYPE = 'message/rfc822';

type Shape = 'calendar' | 'email' | 'file';

export async function writeAttachment(attachment: AttachmentStream, partIndex: number, content: ContentStore): Promise<SplitPart> {
  const declared = declaredType(attachment);
  const shape = shapeOf(declared.value, attachment.filename);
  const capture = shape === 'file' ? undefined : captureHead(attachment.content, headLimit(shape));
  const written = await content.write(capture ?? attachment.content);
  const head = capture?.head ?? Buffer.alloc(0);
  const method = shape === 'calendar' ? calendarMethod(declared.params['method'], head) : undefined;
  const contentId = bareContentId(attachment.contentId);
  return {
    kind: 'attachment',
    partIndex,
    filename: cleanFileName(attachment.filename) ?? madeUpName(shape, partIndex, declared.value, head),
    contentType: formatContentType(declared),
    contentRef: written.ref,
    size: written.size,
    sha256: written.sha256,
    inline: false,
    ...(contentId === undefined ? {} : { contentId }),
    ...(method === undefined ? {} : { method }),
  };
}

/** The type the part declares; mailparser's own `contentType` swaps octet-stream for a guess. */
function declaredType(attachment: AttachmentStream): StructuredHeader {
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
  return type === EMBEDDED_EMAIL_TYPE ? 'email' : 'file';
}

function headLimit(shape: Shape): number {
  return shape === 'calendar' ? CALENDAR_HEAD_BYTES : EMBEDDED_HEAD_BYTES;
}

function madeUpName(shape: Shape, partIndex: number, type: string, head: Buffer): string {
  if (shape === 'calendar') return CALENDAR_NAME;
  if (shape === 'email') return embeddedEmailName(partIndex, embeddedSubject(head));
  return fallbackAttachmentName(partIndex, type);
}

/** Only the parameters a consumer needs to read the bytes: the charset, and a calendar's method. */
function formatContentType(type: StructuredHeader): string {
  const charset = type.params['charset']?.trim();
  const method = type.params['method']?.trim();
  return [type.value, charset ? `charset=${charset}` : '', method ? `method=${method}` : ''].filter(Boolean).join('; ');
}
