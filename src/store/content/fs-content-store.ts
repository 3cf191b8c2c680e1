/**
 * Content files on the local file system (or a directory every worker mounts).
 *
 * A file is written straight under its final name: a ref means something only once a committed
 * row holds it, and rows are committed only after the file is complete and durable, so a file
 * cut short by a crash is an orphan nobody reads (no temporary name and rename needed). The
 * fsync happens as the file is closed, or later for many files at once (`makeDurable`).
 * Directories are 0700 and files 0600: they hold whole emails.
 *
 * A file written for a later `makeDurable` stays open until then, so the fsync needs no second
 * open and close (on a busy machine each file-system call costs about 0.1 ms of CPU; the pickup
 * makes a file per part of each email). Content already in memory (`writeBytes`: an email that
 * arrived whole) is hashed and written in one synchronous call, without a stream; a stream is
 * written as it comes. (Gathering streamed content up to 256 KB into one write saved CPU but
 * let a 50 MB POP3 attachment hold 27-36 MB instead of under 20: test/pop3's memory bound.)
 * Content written `packed` (an email's raw copy, which nothing links) is a piece of a segment
 * file shared with the content written around it (segment-files.ts), not a file of its own.
 */
import { createHash, randomUUID } from 'node:crypto';
import { close, createReadStream, createWriteStream, fsync, open, writeSync } from 'node:fs';
import { mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import type { ContentStore, WriteOptions, WrittenContent } from '../../model/content-store.ts';
import { diskFullError, INTAKE_KEPT_NOTHING, isDiskFull } from '../../model/disk-full.ts';
import { fsyncFile } from '../../model/fsync-file.ts';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../private-files.ts';
import { createSegmentFiles, MAX_PIECE_BYTES, pieceOf } from './segment-files.ts';

// Plain descriptors, not FileHandles: a write stream given a FileHandle with autoClose off keeps
// a hold on it that makes a later sync() wait forever.
const openFd = promisify(open);
const fsyncFd = promisify(fsync);
const closeFd = promisify(close);

export const REF = /^[0-9a-f]{2}\/[0-9a-f-]{36}$/;

export interface FsContentOptions {
  /**
   * Content written `packed` goes into segment files (segment-files.ts); default true. Off for
   * a parse thread's store, whose files are handed over to the main thread's store by descriptor.
   * Pieces are read and removed either way.
   */
  pack?: boolean;
}

export function createFsContentStore(root: string, options: FsContentOptions = {}): ContentStore {
  const made = new Map<string, Promise<unknown>>();
  const pathOf = (ref: string): string => {
    if (!REF.test(ref)) throw new Error(`not a content reference: ${ref}`);
    return join(root, ref);
  };

  /** A full disk named as such (which directory), rather than a bare ENOSPC the caller would blame on the server. */
  const named = (error: unknown): unknown => (isDiskFull(error) ? diskFullError(error, 'the content directory', root, INTAKE_KEPT_NOTHING) : error);
  /** Files written with `durable: false`, open until `makeDurable` (or `remove`) closes them. */
  const awaitingSync = new Map<string, number>();
  const newRef = async (): Promise<string> => {
    const id = randomUUID();
    const dir = join(root, id.slice(0, 2));
    if (!made.has(dir)) {
      made.set(
        dir,
        mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE }).catch((error: unknown) => {
          made.delete(dir); // a full disk or a permission fixed later: made on the next write
          throw named(error);
        }),
      );
    }
    await made.get(dir);
    return `${id.slice(0, 2)}/${id}`;
  };
  const unlinkQuietly = (path: string): Promise<void> =>
    unlink(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });

  const segments = createSegmentFiles(root, newRef, named);
  const pack = options.pack !== false;

  const writeBytes = async (bytes: Buffer, options: WriteOptions = {}): Promise<WrittenContent> => {
    if (options.packed && pack && bytes.length > 0 && bytes.length <= MAX_PIECE_BYTES) {
      const ref = await segments.write(bytes, options.durable !== false);
      return { ref, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
    }
    const ref = await newRef();
    const path = join(root, ref);
    // Small content goes to the page cache with a plain synchronous write: a few microseconds,
    // where an asynchronous call costs a thread-pool hop, a wake-up and a promise (measured in the
    // commit that made this change). Creating the file stays asynchronous: on ext4 a create waits
    // for the journal while other files' fsyncs commit it, which held the event loop for about
    // 0.5 ms per email (profile of a 1,000-email drain; async: 114 -> 121 emails/s, interleaved).
    // The fsync, which waits on the disk, is asynchronous too.
    const fd = await openFd(path, 'wx', PRIVATE_FILE_MODE);
    try {
      for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset, bytes.length - offset, offset);
      if (options.durable !== false) {
        await fsyncFd(fd);
        await closeFd(fd);
      } else awaitingSync.set(ref, fd);
    } catch (error) {
      await closeFd(fd).catch(() => undefined);
      await unlinkQuietly(path);
      throw named(error);
    }
    return { ref, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  };

  return {
    writeBytes,
    async write(source, options = {}): Promise<WrittenContent> {
      const ref = await newRef();
      const path = join(root, ref);
      const hash = createHash('sha256');
      let size = 0;
      const measure = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          hash.update(chunk);
          size += chunk.length;
          callback(null, chunk);
        },
      });
      const deferred = options.durable === false;
      const fd = deferred ? await openFd(path, 'wx', PRIVATE_FILE_MODE) : undefined;
      try {
        await pipeline(
          source,
          measure,
          fd !== undefined
            ? createWriteStream('', { fd, autoClose: false })
            : // `flush`: fsync before close, on the same descriptor.
              createWriteStream(path, { flags: 'wx', mode: PRIVATE_FILE_MODE, flush: true }),
        );
      } catch (error) {
        if (fd !== undefined) await closeFd(fd).catch(() => undefined);
        await unlinkQuietly(path);
        throw named(error);
      }
      if (fd !== undefined) awaitingSync.set(ref, fd);
      return { ref, size, sha256: hash.digest('hex') };
    },
    async makeDurable(refs) {
      const pieces: string[] = [];
      const files: string[] = [];
      for (const ref of refs) (pieceOf(ref) ? pieces : files).push(ref);
      const syncFile = async (ref: string): Promise<void> => {
        const fd = awaitingSync.get(ref);
        if (fd === undefined) return fsyncFile(pathOf(ref));
        awaitingSync.delete(ref);
        try {
          await fsyncFd(fd);
        } finally {
          await closeFd(fd);
        }
      };
      await Promise.all([...files.map(syncFile), ...(pieces.length ? [segments.sync(pieces)] : [])]).catch((error: unknown) => {
        throw named(error);
      });
    },
    open(ref: string): Readable {
      if (pieceOf(ref)) return segments.open(ref);
      return createReadStream(pathOf(ref));
    },
    async remove(ref: string): Promise<void> {
      if (pieceOf(ref)) return segments.remove(ref);
      const path = pathOf(ref);
      const fd = awaitingSync.get(ref);
      awaitingSync.delete(ref);
      if (fd !== undefined) await closeFd(fd).catch(() => undefined);
      await unlinkQuietly(path);
    },
    // A piece shares its file with others: nothing may link it.
    filePath: (ref) => (pieceOf(ref) ? undefined : pathOf(ref)),
    localRoot: root,
    handOver(refs) {
      const open: Array<[string, number]> = [];
      for (const ref of refs) {
        const fd = awaitingSync.get(ref);
        if (fd === undefined) continue;
        awaitingSync.delete(ref);
        open.push([ref, fd]);
      }
      return open;
    },
    adopt(open) {
      for (const [ref, fd] of open) {
        pathOf(ref); // throws on anything that is not a content reference
        awaitingSync.set(ref, fd);
      }
    },
  };
}
