/**
 * Content files on the local file system (or a directory every worker mounts).
 * Files are written under a temporary name, fsynced, then renamed, so a ref that exists is whole.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fsyncFile } from '../../fsync-file.ts';
import type { ContentStore, WrittenContent } from './content-store.ts';

const REF = /^[0-9a-f]{2}\/[0-9a-f-]{36}$/;

export function createFsContentStore(root: string): ContentStore {
  const made = new Map<string, Promise<unknown>>();
  const pathOf = (ref: string): string => {
    if (!REF.test(ref)) throw new Error(`not a content reference: ${ref}`);
    return join(root, ref);
  };

  return {
    async write(source: Readable): Promise<WrittenContent> {
      const id = randomUUID();
      const ref = `${id.slice(0, 2)}/${id}`;
      const dir = join(root, id.slice(0, 2));
      if (!made.has(dir)) made.set(dir, mkdir(dir, { recursive: true }));
      await made.get(dir);
      const final = join(root, ref);
      const temp = `${final}.tmp`;
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
        await pipeline(source, measure, createWriteStream(temp));
        await fsyncFile(temp);
        await rename(temp, final);
      } catch (error) {
        await rm(temp, { force: true });
        throw error;
      }
      return { ref, size, sha256: hash.digest('hex') };
    },
    open(ref: string): Readable {
      return createReadStream(pathOf(ref));
    },
    async remove(ref: string): Promise<void> {
      await rm(pathOf(ref), { force: true });
    },
  };
}
