/**
 * Decodes the body of one POP3 multi-line response (RFC 1939 section 3) as TCP delivers it:
 * removes the byte-stuffing dot from lines that begin with "." and finds the terminating
 * ".CRLF" line, wherever the chunk boundaries fall (even inside the terminator itself).
 *
 * It never buffers a line: a 100 KB line without a newline, or a 200 MB message, passes through
 * as slices of the chunks it came in. The CRLF before the terminator belongs to the last line
 * of the response and is kept; what follows the terminator belongs to the next response.
 */

const DOT = 0x2e;
const CR = 0x0d;
const LF = 0x0a;
const CR_BYTE = Buffer.from([CR]);

/**
 * Where the decoder stands between two bytes:
 * - `line-start`: at the first byte of a line;
 * - `dot`: a line began with "." (stuffing, or the terminator if CRLF follows);
 * - `dot-cr`: a line began with ".\r" (the terminator if LF follows);
 * - `in-line`: inside a line, nothing special until the next LF.
 */
type DecoderState = 'line-start' | 'dot' | 'dot-cr' | 'in-line';

export interface DecodedChunk {
  /** Response bytes, unstuffed; may be empty. Slices of the input chunk: copy to keep them past the next feed. */
  data: Buffer[];
  /** True once the terminator was seen; `rest` then holds the bytes after it. */
  done: boolean;
  rest: Buffer;
}

const EMPTY = Buffer.alloc(0);

export class MultilineDecoder {
  private state: DecoderState = 'line-start';
  private finished = false;

  get done(): boolean {
    return this.finished;
  }

  feed(chunk: Buffer): DecodedChunk {
    if (this.finished) return { data: [], done: true, rest: chunk };
    const data: Buffer[] = [];
    const emit = (bytes: Buffer): void => {
      if (bytes.length) data.push(bytes);
    };
    let segmentStart = 0;
    let i = 0;
    while (i < chunk.length) {
      switch (this.state) {
        case 'line-start':
          if (chunk[i] === DOT) {
            emit(chunk.subarray(segmentStart, i));
            i += 1;
            segmentStart = i;
            this.state = 'dot';
          } else {
            this.state = 'in-line';
          }
          break;
        case 'dot':
          if (chunk[i] === CR) {
            // Held back: only the next byte says whether ".\r" is data or the terminator.
            i += 1;
            segmentStart = i;
            this.state = 'dot-cr';
          } else {
            // The dot was stuffing: it is dropped, the byte is ordinary data.
            this.state = 'in-line';
          }
          break;
        case 'dot-cr':
          if (chunk[i] === LF) {
            this.finished = true;
            return { data, done: true, rest: chunk.subarray(i + 1) };
          }
          // ".\r" followed by something else: a stuffed line whose text starts with CR.
          emit(CR_BYTE);
          segmentStart = i;
          this.state = 'in-line';
          break;
        case 'in-line': {
          const lf = chunk.indexOf(LF, i);
          if (lf === -1) {
            i = chunk.length;
          } else {
            i = lf + 1;
            this.state = 'line-start';
          }
          break;
        }
      }
    }
    emit(chunk.subarray(segmentStart));
    return { data, done: false, rest: EMPTY };
  }
}
