/**
 * Directory destination: `<id>.data` (the content) and `<id>.json` (the envelope). The envelope
 * is written last and atomically (temp file + fsync + rename), so a present `.json` means the
 * pipeline message is complete. Writing the same id twice replaces the files with identical ones.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { PostroomError } from '../errors.ts';
import { fsyncFile } from '../fsync-file.ts';
import type { Destination, DestinationContext, OutgoingMessage } from './destination.ts';

export const directoryOptions = z
  .object({
    type: z.literal('directory'),
    path: z.string().min(1, 'give the directory to write pipeline messages into'),
  })
  .strict();

export type DirectoryOptions = z.infer<typeof directoryOptions>;


export function createDirectoryDestination(name: string, options: DirectoryOptions, _context: DestinationContext): Destination {
  let ready: Promise<unknown> | undefined;
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
        await pipeline(message.openContent(), createWriteStream(dataTemp));
        await fsyncFile(dataTemp);
        await rename(dataTemp, dataPath);
        const handle = await open(jsonTemp, 'w');
        try {
          await handle.writeFile(`${JSON.stringify(message.envelope, null, 2)}\n`);
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(jsonTemp, jsonPath);
      } catch (error) {
        await rm(dataTemp, { force: true });
        await rm(jsonTemp, { force: true });
        throw new PostroomError('DELIVERY_FAILED', `could not write ${id} into ${options.path}: ${(error as Error).message}`, { cause: error });
      }
    },
    async close(): Promise<void> {},
  };
}
