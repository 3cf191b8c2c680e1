/**
 * Content files: the raw email and each split part live here from the moment they are fetched
 * until every pipeline message made from them is delivered. The store's rows refer to them by
 * `ref`. Content is streamed in and out; nothing holds a whole email in memory.
 *
 * Durability: `write` is on disk when it resolves, unless asked for `{ durable: false }`; then
 * `makeDurable` must run before any committed row refers to the content. The pickup writes a
 * whole group of emails that way and waits for their fsyncs together, once, before the group's
 * commit, instead of once per file.
 */
import type { Readable } from 'node:stream';

export interface WrittenContent {
  ref: string;
  size: number;
  /** Lower-case hex sha256 of the bytes. */
  sha256: string;
}

export interface WriteOptions {
  /** false: leave the fsync to a later `makeDurable` (default true). */
  durable?: boolean;
  /**
   * The content is only ever read back through `open` (never linked by a destination): a store
   * may keep it in a file shared with other content (`filePath` then gives nothing for it).
   */
  packed?: boolean;
}

export interface ContentStore {
  /** Streams `source` into new content; on disk before the promise resolves unless `durable: false`. */
  write(source: Readable, options?: WriteOptions): Promise<WrittenContent>;
  /**
   * Content already whole in memory (a small email as it arrived): the same as `write` of those
   * bytes, without a stream. Optional: callers fall back to `write`.
   */
  writeBytes?(bytes: Buffer, options?: WriteOptions): Promise<WrittenContent>;
  /** Makes content written with `durable: false` durable, all of it at once. */
  makeDurable(refs: readonly string[]): Promise<void>;
  open(ref: string): Readable;
  remove(ref: string): Promise<void>;
  /**
   * The file holding `ref`, when content lives in local files: a destination on the same file
   * system can hard-link it instead of copying the bytes. Undefined for content in a database,
   * and for content written `packed`.
   */
  filePath?(ref: string): string | undefined;
  /**
   * The directory of the content files, when they are local: a parse thread opens its own
   * store on it and writes there too (engine/parse-threads.ts).
   */
  localRoot?: string;
  /**
   * Gives up the open descriptors of content written with `durable: false`, for the store of
   * another thread of this process to make durable (`adopt`); this store forgets them.
   */
  handOver?(refs: readonly string[]): Array<[ref: string, fd: number]>;
  /** Takes descriptors another store on the same root handed over: `makeDurable` and `remove` use them. */
  adopt?(open: ReadonlyArray<[ref: string, fd: number]>): void;
}
