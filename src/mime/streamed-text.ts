/**
 * The body of a large email, streamed instead of held. mailparser decodes a text/plain or
 * text/html part in memory, in one piece, and then copies it several times (chunks, joined
 * buffer, string, line-ending rewrite, the UTF-8 bytes written out): a 50 MB one-line HTML body
 * took 330-510 MB. For an email over TEXT_IN_MEMORY_BYTES each such part is instead handed out as
 * a stream (see email-parser.ts) and decoded here on the way into the content store, the same way
 * mailparser decodes it: format=flowed undone, the charset decoded to UTF-8 (undecodable bytes as
 * U+FFFD), CRLF as LF.
 */

import { pipeline, type Readable, Transform, type TransformCallback } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import FlowedDecoder from '@zone-eu/mailsplit/lib/flowed-decoder.js';
import libmime from 'libmime';
import { cidReferences } from './cid-references.ts';

/**
 * Emails up to this size have their body decoded in memory by mailparser (a few copies of at
 * most this much); larger ones stream it. Far above everyday email, far below what would strain
 * a worker's memory.
 */
export const TEXT_IN_MEMORY_BYTES = 16 * 1024 * 1024;

/** What a text part that mailparser would have kept in memory declares about itself. */
export interface StreamedTextInfo {
  contentType: 'text/plain' | 'text/html';
  charset: string | undefined;
  flowed: boolean;
  delSp: boolean;
}

/** Charsets whose bytes mailparser reads as UTF-8 without a decoder. */
const UTF8_LIKE = new Set(['ascii', 'usascii', 'utf8']);
/** A cid: reference can straddle two chunks: this much of the previous one is looked at again. */
const CID_OVERLAP_CHARS = 300;

/** The decoded UTF-8 text of one streamed part, and what was seen of it on the way. */
export class DecodedText extends Transform {
  readonly #decoder = new StringDecoder('utf8');
  readonly cids = new Set<string>();
  blank = true;
  #crPending = false;
  #tail = '';
  readonly #html: boolean;

  constructor(html: boolean) {
    super();
    this.#html = html;
  }

  override _transform(chunk: Buffer | string, _encoding: BufferEncoding, callback: TransformCallback): void {
    callback(null, this.#text(typeof chunk === 'string' ? chunk : this.#decoder.write(chunk)));
  }

  override _flush(callback: TransformCallback): void {
    const rest = this.#text(this.#decoder.end()) + (this.#crPending ? '\r' : '');
    this.#crPending = false;
    callback(null, rest);
  }

  #text(decoded: string): Buffer {
    let text = (this.#crPending ? '\r' : '') + decoded;
    this.#crPending = text.endsWith('\r');
    if (this.#crPending) text = text.slice(0, -1);
    text = text.replace(/\r\n/g, '\n');
    if (this.blank && text.trim() !== '') this.blank = false;
    if (this.#html) {
      const scanned = this.#tail + text;
      for (const cid of cidReferences(scanned)) this.cids.add(cid);
      this.#tail = scanned.slice(-CID_OVERLAP_CHARS);
    }
    return Buffer.from(text, 'utf8');
  }
}

/** `content` (transfer-decoded bytes) through the decoders mailparser would use, ending in a DecodedText. */
export function decodeText(content: Readable, info: StreamedTextInfo): DecodedText {
  const stages: Array<NodeJS.ReadableStream | NodeJS.ReadWriteStream> = [content];
  if (info.flowed) stages.push(new FlowedDecoder({ delSp: info.delSp }));
  const charset = info.charset || 'utf-8';
  if (!UTF8_LIKE.has(charset.toLowerCase().replace(/[^a-z0-9]+/g, ''))) stages.push(libmime.createDecodeStream(charset));
  const decoded = new DecodedText(info.contentType === 'text/html');
  stages.push(decoded);
  pipeline(stages, () => {
    // Errors reach the reader of `decoded`, which pipeline destroys with them.
  });
  return decoded;
}
