/**
 * A pass-through that keeps a copy of the first bytes of a part, so a calendar's METHOD line
 * or a forwarded email's Subject can be read while the part streams into the content store.
 */
import { pipeline, type Readable, Transform, type TransformCallback } from 'node:stream';

export class HeadCapture extends Transform {
  readonly #limit: number;
  readonly #chunks: Buffer[] = [];
  #kept = 0;

  /** `limit` bounds the copy, so a huge part costs no more memory than a small one. */
  constructor(limit: number) {
    super();
    this.#limit = limit;
  }

  /** The bytes seen so far, at most `limit` of them. */
  get head(): Buffer {
    return Buffer.concat(this.#chunks, this.#kept);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#kept < this.#limit) {
      const slice = chunk.subarray(0, this.#limit - this.#kept);
      // A copy, not a view: a view would keep the whole (possibly large) chunk alive.
      this.#chunks.push(Buffer.from(slice));
      this.#kept += slice.length;
    }
    callback(null, chunk);
  }
}

/** Streams `source` through a HeadCapture; an error of `source` ends the capture with it. */
export function captureHead(source: Readable, limit: number): HeadCapture {
  const capture = new HeadCapture(limit);
  pipeline(source, capture, () => {
    // Errors reach the reader of `capture`, which pipeline destroys with them.
  });
  return capture;
}
