/**
 * Content files on the local file system (or a directory every worker mounts).
 *
 * A file is written straight under its final name: a ref means something only once a committed
 * row holds it, and rows are committed only after the file is complete and durable, so a file
 * cut short by a crash is an orphan nobody reads (no temporary name and rename needed). The
 * fsync happens as the file is closed, or later for many files at once (`makeDurable`).
 * Directories are 0700 and files 0600: they hold whole emails.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fsyncFile } from '../../model/fsync-file.ts';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../private-files.ts';
import type { ContentStore, WrittenContent } from '../../model/content-store.ts';

export const REF = /^[0-9a-f]{2}\/[0-9a-f-]{36}$/;

export function createFsContentStore(root: string): ContentStore {
  const made = new Map<string, Promise<unknown>>();
  const pathOf = (ref: string): string => {
    if (!REF.test(ref)) throw new Error(`not a content reference: ${ref}`);
    return join(root, ref);
  };

  return {
    async write(source, options = {}): Promise<WrittenContent> {
      const id = randomUUID();
      const ref = `${id.slice(0, 2)}/${id}`;
      const dir = join(root, id.slice(0, 2));
      if (!made.has(dir)) made.set(dir, mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE }));
      await made.get(dir);
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
      try {
        // `flush`: fsync before close, on the same descriptor.
        await pipeline(source, measure, createWriteStream(path, { flags: 'wx', mode: PRIVATE_FILE_MODE, flush: options.durable !== false }));
      } catch (error) {
        await rm(path, { force: true });
        throw error;
      }
      return { ref, size, sha256: hash.digest('hex') };
    },
    async makeDurable(refs) {
      await Promise.all(refs.map((ref) => fsyncFile(pathOf(ref))));
    },
    open(ref: string): Readable {
      return createReadStream(pathOf(ref));
    },
    async remove(ref: string): Promise<void> {
      await rm(pathOf(ref), { force: true });
    },
    filePath: pathOf,
  };
}
