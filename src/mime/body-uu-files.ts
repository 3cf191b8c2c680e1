/**
 * Files pasted uuencoded into a plain-text body, as old clients (Netscape, Eudora, Outlook
 * Express, Usenet readers) sent them: each becomes an attachment of its own, decoded, named by
 * its begin line, and the body is the text around them. See uuencode.ts for what counts as a
 * block; a text with none is left exactly as it was.
 */
import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import libmime from 'libmime';
import type { ContentStore } from '../model/content-store.ts';
import { baseName } from './attachment-part.ts';
import { cleanFileName, fallbackAttachmentName } from './file-names.ts';
import type { SplitPart } from './split-part.ts';
import { findUuBlocks, MAX_TEXT_LINE_CHARS, type TextPieces, textOutsideBlocks, uuBlockBytes } from './uuencode.ts';

/** The body's text, read afresh each time (once to find blocks, then once per output). */
export type BodyLines = () => TextPieces;

/** Cheap test on an in-memory body before anything is scanned line by line. */
export function mayHoldUuFiles(text: string): boolean {
  return /^begin(-base64)? +[0-7]{1,4} +\S/m.test(text);
}

export interface BodyFiles {
  /** The text outside the blocks; undefined when the body had no block (it stays as it was). */
  text?: Readable;
  files: SplitPart[];
  /** Blocks left in the text because the email had no room for more parts. */
  leftInText: boolean;
}

/**
 * Writes each block that fits into `room` as an attachment numbered from `firstIndex` (or only
 * takes it out of the text, when `keepFiles` is off: the connection does not want attachments).
 */
export async function takeOutUuFiles(
  lines: BodyLines,
  content: ContentStore,
  options: { firstIndex: number; room: number; keepFiles: boolean },
): Promise<BodyFiles> {
  const found = await findUuBlocks(lines());
  if (found.length === 0) return { files: [], leftInText: false };
  const blocks = options.keepFiles ? found.slice(0, Math.max(0, options.room)) : found;
  const files: SplitPart[] = [];
  try {
    for (const [offset, block] of blocks.entries()) {
      const partIndex = options.firstIndex + offset;
      const written = await content.write(Readable.from(uuBlockBytes(lines(), block)));
      if (!options.keepFiles) {
        await content.remove(written.ref);
        continue;
      }
      const filename = cleanFileName(baseName(block.name)) ?? fallbackAttachmentName(partIndex, 'application/octet-stream');
      files.push({
        kind: 'attachment',
        partIndex,
        filename,
        contentType: libmime.detectMimeType(filename) || 'application/octet-stream',
        contentRef: written.ref,
        size: written.size,
        sha256: written.sha256,
        inline: false,
      });
    }
  } catch (error) {
    await Promise.allSettled(files.map((file) => content.remove(file.contentRef)));
    throw error;
  }
  const text = Readable.from(utf8(textOutsideBlocks(lines(), blocks)));
  return { text, files, leftInText: blocks.length < found.length };
}

async function* utf8(pieces: AsyncIterable<string>): AsyncGenerator<Buffer> {
  for await (const piece of pieces) yield Buffer.from(piece, 'utf8');
}

/** A stored UTF-8 text as TextPieces: whole lines, a long one in pieces, never the whole text at once. */
export function storedLines(content: ContentStore, ref: string): BodyLines {
  return () => piecesOf(content.open(ref));
}

async function* piecesOf(stream: Readable): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  for await (const chunk of stream) {
    pending += decoder.write(chunk as Buffer);
    let start = 0;
    let newline: number;
    while ((newline = pending.indexOf('\n', start)) !== -1) {
      yield pending.slice(start, newline + 1);
      start = newline + 1;
    }
    pending = pending.slice(start);
    while (pending.length > MAX_TEXT_LINE_CHARS) {
      yield pending.slice(0, MAX_TEXT_LINE_CHARS);
      pending = pending.slice(MAX_TEXT_LINE_CHARS);
    }
  }
  pending += decoder.end();
  if (pending !== '') yield pending;
}
