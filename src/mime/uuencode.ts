/**
 * uuencode, as old mail clients sent files: a `begin <mode> <name>` line, data lines whose first
 * character gives how many bytes the line holds (32 + n, a backtick for 0), four characters per
 * three bytes, each character 32 + a 6-bit value (a backtick for 0), then an empty line (a lone
 * backtick or space) and `end`. `begin-base64 <mode> <name>` (GNU uuencode -m) carries base64
 * lines up to `====` instead.
 *
 * Two uses, neither of which mailparser covers (its splitter, mailsplit, only decodes base64 and
 * quoted-printable and passes any other Content-Transfer-Encoding through as it came, so a
 * 1,453-byte PNG sent as `x-uuencode` arrived as 2,068 bytes of `begin 644 redball.png` ...):
 * - UuDecoder: the transfer decoder for a part declared `x-uuencode`, `uuencode`, `x-uue` or `uue`;
 * - findUuBlocks: files pasted into a text/plain body (`begin 644 name` ... `end`), which become
 *   attachments of their own while the rest of the text stays the body.
 *
 * Decoding is lenient where senders and relays were sloppy (trailing spaces stripped, short last
 * groups): missing characters count as 0. A block in a body counts only when every line between
 * `begin` and `end` is a well-formed data line, so ordinary text that happens to start with
 * "begin " stays text.
 */
import { Transform, type TransformCallback } from 'node:stream';

/** The Content-Transfer-Encoding spellings that mean uuencode (case-insensitive, already lowercased). */
export const UUENCODE_ENCODINGS: ReadonlySet<string> = new Set(['x-uuencode', 'uuencode', 'x-uue', 'uue']);

/** Bytes a uuencoded part is searched for its `begin` line before it is taken as not uuencoded after all. */
const MAX_PREAMBLE_BYTES = 64 * 1024;
/** A data line holds at most 63 bytes (the length character's 6 bits); 45 is what encoders write. */
const MAX_LINE_BYTES = 63;
/** A data line is under 90 characters; a longer run without a line end is not uuencode and is dropped, so it is never held. */
const MAX_PENDING_CHARS = 64 * 1024;

const BEGIN = /^begin(-base64)? +([0-7]{1,4}) +(.*\S)\s*$/;

export interface UuBegin {
  base64: boolean;
  /** The file name as the begin line gives it (may be empty of any path only after cleaning). */
  name: string;
}

/** The file a `begin` line announces, or undefined when the line is no begin line. */
export function parseBeginLine(line: string): UuBegin | undefined {
  const match = BEGIN.exec(line);
  if (!match) return undefined;
  return { base64: match[1] !== undefined, name: match[3]! };
}

function isEndLine(line: string, base64: boolean): boolean {
  const trimmed = line.trimEnd();
  return base64 ? trimmed === '====' : trimmed === 'end';
}

/** 6-bit value of a uuencode character: backtick and space are both 0. */
function sixBits(code: number): number {
  return (code - 32) & 0x3f;
}

/** How many bytes a data line says it holds. */
function declaredLength(line: string): number {
  return line.length === 0 ? 0 : sixBits(line.charCodeAt(0));
}

/**
 * Whether `line` is a well-formed uuencode data line: characters in the uuencode range and
 * enough of them for the length it declares (an encoder may pad the last group, and a relay may
 * have stripped trailing spaces, which are zero bits: up to 3 missing characters are tolerated).
 */
export function isUuDataLine(line: string): boolean {
  const trimmed = line.trimEnd();
  if (trimmed.length === 0) return line.length > 0; // a lone space: the zero-length line before `end`
  for (let index = 0; index < trimmed.length; index += 1) {
    const code = trimmed.charCodeAt(index);
    if (code < 0x20 || code > 0x60) return false;
  }
  const bytes = declaredLength(trimmed);
  const needed = Math.ceil(bytes / 3) * 4;
  const have = trimmed.length - 1;
  return have <= needed + 4 && have >= needed - 3;
}

/** The bytes of one data line (lenient: missing characters are 0). */
export function decodeUuLine(line: string): Buffer {
  const bytes = Math.min(declaredLength(line), MAX_LINE_BYTES);
  const out = Buffer.alloc(bytes);
  let written = 0;
  for (let at = 1; written < bytes; at += 4) {
    const a = sixBits(line.charCodeAt(at) || 32);
    const b = sixBits(line.charCodeAt(at + 1) || 32);
    const c = sixBits(line.charCodeAt(at + 2) || 32);
    const d = sixBits(line.charCodeAt(at + 3) || 32);
    const triple = [(a << 2) | (b >> 4), ((b & 0x0f) << 4) | (c >> 2), ((c & 0x03) << 6) | d];
    for (const byte of triple) {
      if (written < bytes) out[written++] = byte & 0xff;
    }
  }
  return out;
}

function decodeLine(line: string, base64: boolean): Buffer {
  return base64 ? Buffer.from(line.trim(), 'base64') : decodeUuLine(line);
}

type DecoderState = 'preamble' | 'data' | 'done' | 'raw';

/**
 * The transfer decoder of a uuencoded MIME part: emits the decoded file. Lines before `begin`
 * and after `end` are dropped. A part with no `begin` line in its first 64 KB is not uuencoded
 * after all: it is passed through as it came, and `undecoded` says so.
 */
export class UuDecoder extends Transform {
  /** The name on the begin line, once it has been read. */
  beginName: string | undefined;
  /** True when no begin line was found and the bytes went through as they came. */
  undecoded = false;
  #state: DecoderState = 'preamble';
  #base64 = false;
  #partial = '';
  #preamble: Buffer[] = [];
  #preambleBytes = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#state === 'raw') {
      callback(null, chunk);
      return;
    }
    if (this.#state === 'done') {
      callback();
      return;
    }
    if (this.#state === 'preamble') {
      this.#preamble.push(chunk);
      this.#preambleBytes += chunk.length;
    }
    const text = this.#partial + chunk.toString('latin1');
    const lines = text.split('\n');
    this.#partial = lines.pop() ?? '';
    for (const line of lines) {
      this.#line(line.endsWith('\r') ? line.slice(0, -1) : line);
      if (this.#stopped()) break;
    }
    if (this.#current() === 'preamble' && this.#preambleBytes > MAX_PREAMBLE_BYTES) this.#giveUp();
    if (this.#current() !== 'preamble') this.#preamble = [];
    if (this.#stopped() || this.#partial.length > MAX_PENDING_CHARS) this.#partial = '';
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.#partial !== '' && (this.#state === 'preamble' || this.#state === 'data')) this.#line(this.#partial);
    if (this.#state === 'preamble') this.#giveUp();
    callback();
  }

  /** The state, read through a call: #line changes it behind the type checker's back. */
  #current(): DecoderState {
    return this.#state;
  }

  #stopped(): boolean {
    return this.#state === 'done' || this.#state === 'raw';
  }

  #line(line: string): void {
    if (this.#state === 'preamble') {
      const begin = parseBeginLine(line);
      if (!begin) return;
      this.beginName = begin.name;
      this.#base64 = begin.base64;
      this.#state = 'data';
      return;
    }
    if (isEndLine(line, this.#base64)) {
      this.#state = 'done';
      return;
    }
    const bytes = decodeLine(line, this.#base64);
    if (bytes.length > 0) this.push(bytes);
  }

  /** No begin line: everything seen so far, and everything after, goes out as it came. */
  #giveUp(): void {
    this.undecoded = true;
    this.#state = 'raw';
    for (const piece of this.#preamble) this.push(piece);
    this.#preamble = [];
  }
}

/** A uuencoded file inside a text: its begin line, its data lines and its end line. */
export interface UuBlock {
  name: string;
  base64: boolean;
  /** Numbers (0-based) of the pieces holding the begin and the end line. */
  beginLine: number;
  endLine: number;
}

/**
 * A text to look for blocks in, as pieces: each a whole line with its LF, except the last line
 * of the text (no LF) and the pieces of a line too long to hold (no LF but the last one). Blocks
 * are read from whole lines only.
 */
export type TextPieces = AsyncIterable<string> | Iterable<string>;

/** A line longer than this is handed on in pieces: no uuencode line is anywhere near it. */
export const MAX_TEXT_LINE_CHARS = 64 * 1024;

function lineOf(piece: string): string {
  const line = piece.endsWith('\n') ? piece.slice(0, -1) : piece;
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

/**
 * The well-formed uuencode blocks of a text. A begin line without a matching end line, or with
 * a line between that is not data, is no block: those lines stay text.
 */
export async function findUuBlocks(pieces: TextPieces): Promise<UuBlock[]> {
  const blocks: UuBlock[] = [];
  let open: { begin: UuBegin; line: number } | undefined;
  let number = -1;
  let lineStart = true;
  for await (const piece of pieces) {
    number += 1;
    const whole = lineStart;
    lineStart = piece.endsWith('\n');
    if (!whole) {
      open = undefined; // the rest of a long line: text
      continue;
    }
    const line = lineOf(piece);
    if (open) {
      if (isEndLine(line, open.begin.base64)) {
        blocks.push({ name: open.begin.name, base64: open.begin.base64, beginLine: open.line, endLine: number });
        open = undefined;
        continue;
      }
      if (open.begin.base64 ? /^[A-Za-z0-9+/=]*\s*$/.test(line) : isUuDataLine(line)) continue;
      open = undefined; // not a block after all; this line may begin one itself
    }
    const begin = parseBeginLine(line);
    if (begin) open = { begin, line: number };
  }
  return blocks;
}

/** The decoded bytes of one block, from the same pieces findUuBlocks was given. */
export async function* uuBlockBytes(pieces: TextPieces, block: UuBlock): AsyncGenerator<Buffer> {
  let number = -1;
  for await (const piece of pieces) {
    number += 1;
    if (number <= block.beginLine) continue;
    if (number >= block.endLine) return;
    const bytes = decodeLine(lineOf(piece), block.base64);
    if (bytes.length > 0) yield bytes;
  }
}

/** The text outside the given blocks, exactly as it was. */
export async function* textOutsideBlocks(pieces: TextPieces, blocks: readonly UuBlock[]): AsyncGenerator<string> {
  let number = -1;
  let next = 0;
  for await (const piece of pieces) {
    number += 1;
    while (next < blocks.length && number > blocks[next]!.endLine) next += 1;
    const block = blocks[next];
    if (block && number >= block.beginLine && number <= block.endLine) continue;
    yield piece;
  }
}

/** A string as TextPieces, without holding its lines in an array. */
export function* stringPieces(text: string): Generator<string> {
  let start = 0;
  while (start < text.length) {
    const newline = text.indexOf('\n', start);
    const end = newline === -1 ? text.length : newline + 1;
    for (let at = start; at < end; at += MAX_TEXT_LINE_CHARS) yield text.slice(at, Math.min(end, at + MAX_TEXT_LINE_CHARS));
    start = end;
  }
}
