/**
 * Emails written with bare CR line endings (classic Mac OS, some gateways and scripts): MIME
 * parsers, mailparser included, end lines at LF only, so such an email reads as one endless
 * header line and yields nothing. An email whose first line is a header field ending in a bare
 * CR is taken to use CR line endings throughout, and each bare CR in it is read as CRLF, so its
 * headers and boundaries are found. Any other email passes through untouched, byte for byte.
 */
import { Transform, type TransformCallback } from 'node:stream';

const CR = 0x0d;
const LF = 0x0a;
const LF_BYTE = Buffer.from([LF]);
/**
 * Bytes looked at for the first line end. A header line that long is no real email's first line
 * (RFC 5322 allows 998); an email that long without one passes as it is.
 */
const MAX_FIRST_LINE_BYTES = 1000;
/** A header field ("Name:"), or the "From " line an mbox export starts with. */
const FIRST_LINE = /^(?:[\x21-\x39\x3b-\x7e]+[ \t]*:|From )/;

type Mode = 'undecided' | 'bare-cr' | 'as-is';

export class BareCrLineEnds extends Transform {
  #mode: Mode = 'undecided';
  /** The bytes held until the first line end shows which mode the email is in. */
  #head: Buffer = Buffer.alloc(0);
  /** The previous chunk ended in a CR: whether an LF follows is known only with the next byte. */
  #crPending = false;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#mode === 'undecided') {
      this.#head = Buffer.concat([this.#head, chunk]);
      const mode = decide(this.#head);
      if (mode === 'undecided') {
        callback();
        return;
      }
      this.#mode = mode;
      chunk = this.#head;
      this.#head = Buffer.alloc(0);
    }
    callback(null, this.#mode === 'bare-cr' ? this.#withLfs(chunk) : chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.#head.length) this.push(this.#head);
    if (this.#crPending) this.push(LF_BYTE);
    callback();
  }

  /** Every CR not followed by LF gets one. */
  #withLfs(chunk: Buffer): Buffer {
    const pieces: Buffer[] = [];
    let from = 0;
    if (this.#crPending && chunk[0] !== LF) pieces.push(LF_BYTE);
    this.#crPending = false;
    for (let cr = chunk.indexOf(CR); cr !== -1; cr = chunk.indexOf(CR, cr + 1)) {
      if (cr + 1 === chunk.length) {
        this.#crPending = true;
        break;
      }
      if (chunk[cr + 1] === LF) continue;
      pieces.push(chunk.subarray(from, cr + 1), LF_BYTE);
      from = cr + 1;
    }
    pieces.push(chunk.subarray(from));
    return pieces.length === 1 ? chunk : Buffer.concat(pieces);
  }
}

function decide(head: Buffer): Mode {
  const end = head.findIndex((byte) => byte === CR || byte === LF);
  if (end === -1) return head.length > MAX_FIRST_LINE_BYTES ? 'as-is' : 'undecided';
  if (head[end] === LF) return 'as-is';
  if (end + 1 === head.length) return 'undecided'; // a CRLF split across chunks
  if (head[end + 1] === LF) return 'as-is';
  return FIRST_LINE.test(head.subarray(0, end).toString('latin1')) ? 'bare-cr' : 'as-is';
}
