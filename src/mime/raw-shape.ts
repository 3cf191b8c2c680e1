/**
 * Watches the raw bytes go by to tell an email that truly has nothing to emit (headers only)
 * from one whose content the parser could not see: a multipart without a usable boundary keeps
 * everything in its preamble, and bytes that are not an email at all read as one long header.
 * In both cases the parser finds no part, yet dropping the email would lose it.
 */
import { Transform, type TransformCallback } from 'node:stream';

/** A field name longer than this is not a header line (real names are under 80 bytes). */
const MAX_FIELD_NAME_BYTES = 256;

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const COLON = 0x3a;
/** An mbox export starts with "From sender date" before the real headers. */
const MBOX_FROM = 'From ';

export interface RawShapeReport {
  /** Some line of the top header block is neither a header field nor a continuation. */
  readonly strayHeaderLine: boolean;
  /** Something other than whitespace follows the top header block. */
  readonly bodyHasContent: boolean;
  /** The top header block ended with an empty line (else the whole email read as headers). */
  readonly headerBlockEnded: boolean;
}

export class RawShape extends Transform implements RawShapeReport {
  strayHeaderLine = false;
  bodyHasContent = false;
  #inBody = false;

  get headerBlockEnded(): boolean {
    return this.#inBody;
  }

  #lineNumber = 0;
  /** Bytes of the current header line, counted up to the first colon or MAX_FIELD_NAME_BYTES. */
  #lineLength = 0;
  #lineDecided = false;
  #lineFirstByte = -1;
  #afterName = false;
  /** The first bytes of the first line, to recognise an mbox "From " line. */
  #prefix = '';

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let offset = 0;
    while (!this.#inBody && offset < chunk.length) offset = this.#scanHeaderByte(chunk, offset);
    if (this.#inBody && !this.bodyHasContent) this.bodyHasContent = hasNonWhitespace(chunk, offset);
    callback(null, chunk);
  }

  #scanHeaderByte(chunk: Buffer, offset: number): number {
    const byte = chunk[offset] ?? LF;
    if (byte === LF) {
      this.#endLine();
    } else if (byte !== CR) {
      this.#lineByte(byte);
    }
    return offset + 1;
  }

  #lineByte(byte: number): void {
    if (this.#lineFirstByte === -1) this.#lineFirstByte = byte;
    if (this.#lineDecided) return;
    this.#lineLength += 1;
    if (this.#lineNumber === 0 && this.#lineLength <= MBOX_FROM.length) this.#prefix += String.fromCharCode(byte);
    if (byte === COLON && this.#lineLength > 1) {
      this.#decide(true);
      return;
    }
    if (isFieldNameByte(byte) && !this.#afterName && this.#lineLength <= MAX_FIELD_NAME_BYTES) return;
    // RFC 5322 4.5.3 (obsolete syntax) allows whitespace between the field name and the colon.
    if ((byte === SPACE || byte === TAB) && this.#lineLength > 1) {
      this.#afterName = true;
      return;
    }
    this.#decide(this.#isContinuation() || this.#prefix === MBOX_FROM);
  }

  #decide(isHeaderLine: boolean): void {
    this.#lineDecided = true;
    if (!isHeaderLine) this.strayHeaderLine = true;
  }

  #endLine(): void {
    if (this.#lineFirstByte === -1) {
      // The empty line that ends the header block.
      this.#inBody = true;
    } else if (!this.#lineDecided && !this.#isContinuation()) {
      this.strayHeaderLine = true;
    }
    this.#lineNumber += 1;
    this.#lineLength = 0;
    this.#lineDecided = false;
    this.#lineFirstByte = -1;
    this.#afterName = false;
  }

  #isContinuation(): boolean {
    return this.#lineNumber > 0 && (this.#lineFirstByte === SPACE || this.#lineFirstByte === TAB);
  }
}

/** RFC 5322 field names: printable ASCII except the colon. */
function isFieldNameByte(byte: number): boolean {
  return byte > SPACE && byte < 0x7f && byte !== COLON;
}

function hasNonWhitespace(chunk: Buffer, from: number): boolean {
  for (let index = from; index < chunk.length; index += 1) {
    const byte = chunk[index];
    if (byte !== SPACE && byte !== TAB && byte !== CR && byte !== LF) return true;
  }
  return false;
}
