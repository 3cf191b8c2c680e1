/**
 * Parse threads: emails that arrived whole (up to 1 MB: IMAP's batched FETCH, POP3's RETR)
 * are kept and split on a pool of worker threads (piscina), so parsing, hashing and writing the
 * content files run beside the main thread's network, TLS, store and delivery work. The result
 * is the same as on the main thread, byte for byte; only where the CPU time is spent changes.
 *
 * Used only with local content files (`ContentStore.localRoot`); content in PostgreSQL, and
 * emails streamed because they are large, are kept and split on the main thread as before.
 * `parsing.threads: 0` keeps everything there.
 */
import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Piscina } from 'piscina';
import type { ContentStore } from '../model/content-store.ts';
import type { ListedEmail } from '../sources/source.ts';
import { type IngestedEmail, type IngestSettings, ingestSettings } from './ingest-email.ts';
import type { IngestAnswer, IngestTask } from './ingest-thread.ts';
import { errorFromData } from './thread-errors.ts';

/** `parsing.threads: auto`: at most this many. */
const AUTO_MAX_THREADS = 4;
/**
 * Cores `auto` leaves to the main thread, its I/O threads and garbage collection. On 2 cores a
 * parse thread did not pay (README, Performance: it cost more CPU per email than it saved wall time).
 */
const CORES_KEPT = 2;

/** A parse thread's young generation (MB): its garbage is a few emails' worth, not the main thread's. */
const THREAD_YOUNG_GENERATION_MB = 8;

export function threadsFor(setting: number | 'auto', cores = availableParallelism()): number {
  return setting === 'auto' ? Math.max(0, Math.min(AUTO_MAX_THREADS, cores - CORES_KEPT)) : setting;
}

export interface ParseThreads {
  readonly threads: number;
  /** Keeps and splits one email that arrived whole on a thread; its content descriptors come back adopted by `contents`. */
  ingest(connection: IngestSettings, email: ListedEmail, bytes: Buffer, now: number): Promise<IngestedEmail>;
  close(): Promise<void>;
}

/** The pool, started at its first email (a `run --once` with nothing new starts no thread); undefined when it would not be used. */
export function createParseThreads(threads: number, contents: ContentStore): ParseThreads | undefined {
  const root = contents.localRoot;
  const adopt = contents.adopt?.bind(contents);
  if (threads <= 0 || root === undefined || !adopt) return undefined;
  let pool: Promise<Piscina> | undefined;
  let closed = false;
  const start = (): Promise<Piscina> => {
    pool ??= import('piscina').then(
      ({ Piscina }) =>
        new Piscina({
          // Under tsx (tests, a checkout) the thread runs the .ts file; built, the .js beside this one.
          filename: new URL(`./ingest-thread${extname(fileURLToPath(import.meta.url))}`, import.meta.url).href,
          minThreads: threads,
          maxThreads: threads,
          // Emails come four at a time per poll (pickup's INGEST_AHEAD); a short queue per thread keeps memory flat.
          concurrentTasksPerWorker: 2,
          // A task waits on the file system: the thread's event loop must run between tasks,
          // which piscina's default (blocking Atomics.wait for the next task) would stop.
          atomics: 'disabled',
          // The content files' descriptors are handed to the main thread: the thread must not
          // count them as its own (Node closes those when a thread exits, and warns when the
          // number comes back after the main thread closed it).
          trackUnmanagedFds: false,
          idleTimeout: 60_000,
          resourceLimits: { maxYoungGenerationSizeMb: THREAD_YOUNG_GENERATION_MB },
        }),
    );
    return pool;
  };
  return {
    threads,
    async ingest(connection, email, bytes, now) {
      if (closed) throw new Error('the parse threads are closed');
      const task: IngestTask = {
        connection: ingestSettings(connection),
        email: {
          key: email.key,
          ...(email.size !== undefined ? { size: email.size } : {}),
          ...(email.fingerprint !== undefined ? { fingerprint: email.fingerprint } : {}),
          ...(email.cursorAfter ? { cursorAfter: email.cursorAfter } : {}),
        },
        bytes,
        now,
        root,
      };
      const answer = (await (await start()).run(task)) as IngestAnswer;
      if ('error' in answer) throw errorFromData(answer.error);
      adopt(answer.open);
      return answer.ingested;
    },
    async close() {
      closed = true;
      if (pool) await (await pool).destroy();
    },
  };
}
