/**
 * Content files: the raw email and each split part live here from the moment they are fetched
 * until every pipeline message made from them is delivered. The store's rows refer to them by
 * `ref`. Content is streamed in and out; nothing holds a whole email in memory.
 */
import type { Readable } from 'node:stream';

export interface WrittenContent {
  ref: string;
  size: number;
  /** Lower-case hex sha256 of the bytes. */
  sha256: string;
}

export interface ContentStore {
  /** Streams `source` into a new content file, fsynced before the promise resolves. */
  write(source: Readable): Promise<WrittenContent>;
  open(ref: string): Readable;
  remove(ref: string): Promise<void>;
}
