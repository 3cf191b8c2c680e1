/**
 * Directory destination: `<id>.data` (the content) and `<id>.json` (the envelope). The envelope
 * is written last and atomically (temp file + fsync + rename), so a present `.json` means the
 * pipeline message is complete. Writing the same id twice replaces the files with identical ones.
 *
 * When the content is a local file on the same file system (the embedded store's content
 * files), `.data` is a hard link to it rather than a copy: no bytes are written again, and
 * the file is already on disk. Elsewhere (another file system, content in PostgreSQL) the bytes
 * are copied and fsynced. The directory itself is fsynced once per delivery round (`flush`),
 * which makes the new names durable before the outbox records the messages delivered.
 */
import { createWriteStream } from 'node:fs';
import { link, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { PostroomError } from '../errors.ts';
import { fsyncFile } from '../fsync-file.ts';
import type { Destination, DestinationContext, OutgoingMessage } from './destination.ts';

/** link(2) errors that mean "not here": copy instead, and stop trying for this destination. */
const CANNOT_LINK = new Set(['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK', 'ENOSYS']);

export const directoryOptions = z
  .object({
    type: z.literal('directory'),
    path: z.string().min(1, 'give the directory to write pipeline messages into'),
  })
  .strict();

export type DirectoryOptions = z.infer<typeof directoryOptions>;


export function createDirectoryDestination(name: string, options: DirectoryOptions, _context: DestinationContext): Destination {
  let ready: Promise<unknown> | undefined;
  /** False once link(2) has said this directory cannot share files with the content store. */
  let linking = true;
  /** Names were added since the directory was last fsynced. */
  let unflushed = false;

  /** `.data`: a hard link to the content file when possible, else a fsynced copy. */
  async function writeData(message: OutgoingMessage, dataPath: string, dataTemp: string): Promise<void> {
    if (message.contentFile && linking) {
      try {
        await linkInPlace(message.contentFile, dataPath, dataTemp);
        return;
      } catch (error) {
        if (!CANNOT_LINK.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
        linking = false;
      }
    }
    await pipeline(message.openContent(), createWriteStream(dataTemp, { flush: true }));
    await rename(dataTemp, dataPath);
  }

  return {
    name,
    type: 'directory',
    async deliver(message: OutgoingMessage): Promise<void> {
      // Made once, but a failure is not remembered: the next delivery tries again, so fixing
      // the directory (permissions, a full disk) needs no restart.
      ready ??= mkdir(options.path, { recursive: true }).catch((error: unknown) => {
        ready = undefined;
        throw error;
      });
      await ready;
      const { id } = message.envelope;
      const dataPath = join(options.path, `${id}.data`);
      const jsonPath = join(options.path, `${id}.json`);
      const dataTemp = join(options.path, `.${id}.data.tmp`);
      const jsonTemp = join(options.path, `.${id}.json.tmp`);
      try {
        await writeData(message, dataPath, dataTemp);
        const handle = await open(jsonTemp, 'w');
        try {
          await handle.writeFile(`${JSON.stringify(message.envelope, null, 2)}\n`);
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(jsonTemp, jsonPath);
        unflushed = true;
      } catch (error) {
        await rm(dataTemp, { force: true });
        await rm(jsonTemp, { force: true });
        throw new PostroomError('DELIVERY_FAILED', `could not write ${id} into ${options.path}: ${(error as Error).message}`, { cause: error });
      }
    },
    async flush(): Promise<void> {
      if (!unflushed) return;
      unflushed = false;
      try {
        await fsyncFile(options.path);
      } catch (error) {
        unflushed = true;
        throw new PostroomError('DELIVERY_FAILED', `could not sync the directory ${options.path}: ${(error as Error).message}`, { cause: error });
      }
    },
    async close(): Promise<void> {},
  };
}

/** Links `file` as `path`; a `path` left by an earlier delivery of the same id is replaced atomically. */
async function linkInPlace(file: string, path: string, temp: string): Promise<void> {
  try {
    await link(file, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const [ours, theirs] = await Promise.all([stat(file), stat(path)]);
    // Already this very file (delivered before a crash): rename(2) would do nothing and leave the temp.
    if (ours.ino === theirs.ino && ours.dev === theirs.dev) return;
    await rm(temp, { force: true });
    await link(file, temp);
    await rename(temp, path);
  }
}
