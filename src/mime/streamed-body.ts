/**
 * The body part of a large email, from the text parts streamed into the content store
 * (streamed-text.ts), chosen and joined the way mailparser joins the text it holds: every
 * non-empty text/plain part joined by a newline, else every HTML part joined by `<br/>\n`.
 */
import { Readable } from 'node:stream';
import type { ContentStore, WrittenContent } from '../model/content-store.ts';
import { BODY_PART_INDEX } from './body-part.ts';
import { BODY_HTML_NAME, BODY_TEXT_NAME } from './file-names.ts';
import type { SplitPart } from './split-part.ts';
import type { StreamedTextInfo } from './streamed-text.ts';

export interface StreamedText {
  info: StreamedTextInfo;
  written: WrittenContent;
  blank: boolean;
  cids: ReadonlySet<string>;
}

const TEXT_SEPARATOR = '\n';
const HTML_SEPARATOR = '<br/>\n';

/** The body part, or undefined; every streamed text file not used in it is removed. */
export async function streamedBody(texts: readonly StreamedText[], content: ContentStore): Promise<SplitPart | undefined> {
  const plain = texts.filter((text) => text.info.contentType === 'text/plain' && text.written.size > 0);
  const html = texts.filter((text) => text.info.contentType === 'text/html' && text.written.size > 0);
  // As chooseBody: a blank text/plain rendering next to real HTML is a placeholder; the HTML is the body.
  const useHtml = plain.length === 0 || (plain.every((text) => text.blank) && html.some((text) => !text.blank));
  const chosen = useHtml ? html : plain;
  const written = await joined(chosen, useHtml ? HTML_SEPARATOR : TEXT_SEPARATOR, content);
  const used = new Set(chosen.length === 1 ? [chosen[0]!.written.ref] : []);
  await Promise.all(texts.filter((text) => !used.has(text.written.ref)).map((text) => content.remove(text.written.ref)));
  if (!written) return undefined;
  return {
    kind: 'body',
    partIndex: BODY_PART_INDEX,
    filename: useHtml ? BODY_HTML_NAME : BODY_TEXT_NAME,
    contentType: useHtml ? 'text/html; charset=utf-8' : 'text/plain; charset=utf-8',
    contentRef: written.ref,
    size: written.size,
    sha256: written.sha256,
  };
}

/** The one file as it is, or several streamed one after the other into a new one. */
async function joined(texts: readonly StreamedText[], separator: string, content: ContentStore): Promise<WrittenContent | undefined> {
  if (texts.length <= 1) return texts[0]?.written;
  async function* pieces(): AsyncGenerator<Buffer> {
    for (const [index, text] of texts.entries()) {
      if (index > 0) yield Buffer.from(separator, 'utf8');
      for await (const chunk of content.open(text.written.ref)) yield chunk as Buffer;
    }
  }
  return content.write(Readable.from(pieces()));
}
