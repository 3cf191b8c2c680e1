/**
 * The body pipeline message: the text/plain rendering when the email has one, else the HTML,
 * as UTF-8 (the parser has already decoded it from the part's charset).
 */
import { Readable } from 'node:stream';
import type { ContentStore } from '../model/content-store.ts';
import { BODY_HTML_NAME, BODY_TEXT_NAME } from './file-names.ts';
import type { SplitPart } from './split-part.ts';

export const BODY_PART_INDEX = 0;

interface BodyChoice {
  filename: string;
  contentType: string;
  text: string;
}

export function chooseBody(text: string | undefined, html: string | undefined): BodyChoice | undefined {
  // A blank text/plain rendering next to real HTML is a placeholder some senders add; the HTML is the body.
  if (text !== undefined && !(isBlank(text) && html !== undefined && !isBlank(html)))
    return { filename: BODY_TEXT_NAME, contentType: 'text/plain; charset=utf-8', text };
  if (html !== undefined) return { filename: BODY_HTML_NAME, contentType: 'text/html; charset=utf-8', text: html };
  return undefined;
}

function isBlank(text: string): boolean {
  return text.trim() === '';
}

export async function writeBody(body: BodyChoice, content: ContentStore): Promise<SplitPart> {
  const written = await content.write(Readable.from([Buffer.from(body.text, 'utf8')]));
  return {
    kind: 'body',
    partIndex: BODY_PART_INDEX,
    filename: body.filename,
    contentType: body.contentType,
    contentRef: written.ref,
    size: written.size,
    sha256: written.sha256,
  };
}

/** A body kept as the bytes it is (an RTF body). */
export async function writeBodyBytes(bytes: Buffer, filename: string, contentType: string, content: ContentStore): Promise<SplitPart> {
  const written = await content.write(Readable.from([bytes]));
  return { kind: 'body', partIndex: BODY_PART_INDEX, filename, contentType, contentRef: written.ref, size: written.size, sha256: written.sha256 };
}
