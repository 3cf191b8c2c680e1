/**
 * Outlook's winmail.dat, unpacked into pipeline messages: each file inside is an attachment of
 * its own, each Outlook item inside (an email dragged into the email) a `.eml` of its own
 * (tnef-email.ts), and its body the email's body when the MIME has none (an "RTF-only" email:
 * Outlook sent the text only as compressed RTF inside winmail.dat). winmail.dat itself is
 * delivered as it came, so nothing is lost if a reader downstream wants it; one this cannot read
 * is only delivered as it came.
 */
import { Readable } from 'node:stream';
import libmime from 'libmime';
import type { ContentStore } from '../model/content-store.ts';
import { cleanFileName, embeddedEmailName, fallbackAttachmentName } from './file-names.ts';
import { decompressRtf, deencapsulate, RtfError } from './rtf.ts';
import type { SplitPart } from './split-part.ts';
import { parseTnef, TnefError, type TnefMessage } from './tnef.ts';
import { tnefMessageEmail } from './tnef-email.ts';

/** winmail.dat larger than this is kept whole only: unpacking reads it into memory. */
const MAX_TNEF_BYTES = 64 * 1024 * 1024;
/** The piece size the content store is handed unpacked files in: what a file read gives at a time. */
const WRITE_SLICE_BYTES = 64 * 1024;
/** Unpacked files are numbered after their winmail.dat's own index: 3 -> 30001, 30002, ... */
const TNEF_CHILD_BASE = 10_000;

export interface UnpackedTnef {
  parts: SplitPart[];
  /** More files or items than `room` allowed. */
  truncated: boolean;
  /** The message level (body, class), without its attachments; undefined when winmail.dat could not be read. */
  message?: TnefMessage;
}

/** At most `room` files and items become parts; the message level is read in any case. */
export async function unpackTnef(part: SplitPart, content: ContentStore, room: number): Promise<UnpackedTnef> {
  if (part.size > MAX_TNEF_BYTES) return { parts: [], truncated: false };
  const chunks: Buffer[] = [];
  for await (const chunk of content.open(part.contentRef)) chunks.push(chunk as Buffer);
  let message: TnefMessage;
  try {
    // One more than there is room for tells whether some were left out.
    message = await parseTnef(Buffer.concat(chunks), room + 1);
  } catch (error) {
    if (error instanceof TnefError) return { parts: [], truncated: false };
    throw error;
  }
  const parts: SplitPart[] = [];
  const files = message.attachments.slice(0, room);
  const items = message.messages.slice(0, Math.max(0, room - files.length));
  try {
    for (const file of files) {
      const partIndex = part.partIndex * TNEF_CHILD_BASE + parts.length + 1;
      const filename = cleanFileName(file.filename) ?? fallbackAttachmentName(partIndex, 'application/octet-stream');
      parts.push(await stored(content, file.data, partIndex, filename, libmime.detectMimeType(file.filename) || 'application/octet-stream'));
    }
    for (const item of items) {
      const partIndex = part.partIndex * TNEF_CHILD_BASE + parts.length + 1;
      const filename = embeddedEmailName(partIndex, item.message.subject ?? item.title ?? null);
      parts.push(await stored(content, await tnefMessageEmail(item.message), partIndex, filename, 'message/rfc822'));
    }
  } catch (error) {
    await Promise.allSettled(parts.map((written) => content.remove(written.contentRef)));
    throw error;
  }
  const total = message.attachments.length + message.messages.length;
  return { parts, truncated: total > room, message: { ...message, attachments: [], messages: [] } };
}

async function stored(content: ContentStore, data: Buffer, partIndex: number, filename: string, contentType: string): Promise<SplitPart> {
  const written = await content.write(Readable.from(slices(data)));
  return { kind: 'attachment', partIndex, filename, contentType, contentRef: written.ref, size: written.size, sha256: written.sha256 };
}

/** Hands a large buffer to the content store in pieces, so hashing it never holds the event loop for long. */
function* slices(data: Buffer): Generator<Buffer> {
  for (let at = 0; at < data.length; at += WRITE_SLICE_BYTES) yield data.subarray(at, at + WRITE_SLICE_BYTES);
}

/** A TNEF body as the email's body: HTML or text where it has (or its RTF encapsulates) them, else the RTF itself. */
export type TnefBody = { text?: string; html?: string } | { rtf: Buffer };

export async function tnefBody(message: TnefMessage): Promise<TnefBody | undefined> {
  if (message.compressedRtf) {
    try {
      const rtf = decompressRtf(message.compressedRtf);
      const inside = await deencapsulate(rtf);
      if (inside.kind === 'html') return { html: inside.text };
      if (inside.kind === 'text') return { text: inside.text };
      if (message.html === undefined && message.text === undefined) return { rtf };
    } catch (error) {
      if (!(error instanceof RtfError)) throw error;
    }
  }
  if (message.html !== undefined || message.text !== undefined)
    return { ...(message.text === undefined ? {} : { text: message.text }), ...(message.html === undefined ? {} : { html: message.html }) };
  return undefined;
}
