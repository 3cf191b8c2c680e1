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
 *
 * The directory may be writable by other local users, and ids can be worked out from earlier
 * envelopes: every write goes to a temp name with random bytes in it, created exclusively
 * (O_EXCL, O_NOFOLLOW: a planted symlink or file there makes the attempt fail, it is never
 * followed), and is renamed over the final name (rename replaces a planted link, never writes
 * through it). `.data` and `.json` get `fileMode` (default 0640) whatever the umask. Temp files
 * a killed process left are removed when the destination is first used.
 *
 * `format: cloudevents` / `cloudevents-structured` add `<id>.ce.json`, written (the same way)
 * after `.data` and before `.json`: the CloudEvents attributes with `dataref: "<id>.data"` (the
 * dataref extension: the data is in that file), or the whole structured event, the content
 * streamed in as `data_base64`.
 */
import { randomBytes } from 'node:crypto';
import { constants, createWriteStream } from 'node:fs';
import { chmod, type FileHandle, link, lstat, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DEFAULT_FILE_MODE, type DirectoryOptions } from '../config/destinations/directory-options.ts';
import type { DeliveryReceipt, Destination, DestinationContext, OutgoingMessage } from '../model/destination.ts';
import { diskFullError, isDiskFull } from '../model/disk-full.ts';
import { PostroomError } from '../model/errors.ts';
import { fsyncFile } from '../model/fsync-file.ts';
import { traceHeaders } from '../model/tracing.ts';
import { eventAttributes, structuredEvent } from './cloudevents.ts';

export { DEFAULT_FILE_MODE, type DirectoryOptions, directoryOptions } from '../config/destinations/directory-options.ts';

/** link(2) errors that mean "not here": copy instead, and stop trying for this destination. */
const CANNOT_LINK = new Set(['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK', 'ENOSYS']);
/** Create a new file only, and never through a symlink (O_NOFOLLOW is 0 where the OS lacks it). */
const EXCLUSIVE_CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);
/** Random bytes in a temp name: 2^64 names, so a name cannot be planted in advance. */
const TEMP_NAME_BYTES = 8;
/** Our temp names (`.<id>.<random hex>.tmp`), and the fixed ones earlier versions used. */
const TEMP_NAME = /^\..+\.(?:[0-9a-f]{16}|data|json)\.tmp$/;

const DELIVERY_WAITS = 'Nothing was lost: the pipeline messages wait in the outbox, without using up their retries, and go out once there is room';

export function createDirectoryDestination(name: string, options: DirectoryOptions, _context: DestinationContext): Destination {
  const mode = options.fileMode ?? DEFAULT_FILE_MODE;
  let ready: Promise<unknown> | undefined;
  /** False once link(2) has said this directory cannot share files with the content store. */
  let linking = true;
  /** Names were added since the directory was last fsynced. */
  let unflushed = false;
  /**
   * True once a file created with `mode` was seen to get exactly that mode (the umask takes
   * nothing from it): later files then need no chmod, one file-system call fewer per file.
   */
  let umaskKeepsMode = false;
  const setMode = async (handle: FileHandle): Promise<void> => {
    if (umaskKeepsMode) return;
    if (((await handle.stat()).mode & 0o777) === mode) umaskKeepsMode = true;
    else await handle.chmod(mode);
  };
  const tempName = (id: string): string => join(options.path, `.${id}.${randomBytes(TEMP_NAME_BYTES).toString('hex')}.tmp`);

  /** `.data`: a hard link to the content file when possible, else a fsynced copy. */
  async function writeData(message: OutgoingMessage, dataPath: string, temps: string[]): Promise<void> {
    if (message.contentFile && linking) {
      try {
        await linkInPlace(message.contentFile, dataPath, tempName(message.envelope.id), mode, temps);
        return;
      } catch (error) {
        if (!CANNOT_LINK.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
        linking = false;
      }
    }
    const temp = tempName(message.envelope.id);
    temps.push(temp);
    const handle = await open(temp, EXCLUSIVE_CREATE, mode);
    await setMode(handle).catch(async (error: unknown) => {
      await handle.close();
      throw error;
    });
    // `flush`: fsync before close, on the same descriptor.
    await pipeline(message.openContent(), createWriteStream('', { fd: handle, flush: true }));
    await rename(temp, dataPath);
  }

  /** `<id>.ce.json`: the event beside `.data` (binary mode) or holding it (structured). */
  async function writeEvent(message: OutgoingMessage, path: string, temps: string[]): Promise<void> {
    const attributes = eventAttributes(message.envelope, traceHeaders());
    const temp = tempName(message.envelope.id);
    temps.push(temp);
    const handle = await open(temp, EXCLUSIVE_CREATE, mode);
    await handle.chmod(mode).catch(async (error: unknown) => {
      await handle.close();
      throw error;
    });
    const document =
      options.format === 'cloudevents-structured'
        ? structuredEvent(attributes, message.envelope.size).open(message.openContent())
        : Readable.from([Buffer.from(`${JSON.stringify({ ...attributes, dataref: `${message.envelope.id}.data` }, null, 2)}\n`, 'utf8')]);
    await pipeline(document, createWriteStream('', { fd: handle, flush: true }));
    await rename(temp, path);
  }

  return {
    name,
    type: 'directory',
    async deliver(message: OutgoingMessage): Promise<DeliveryReceipt> {
      // Made once, but a failure is not remembered: the next delivery tries again, so fixing
      // the directory (permissions, a full disk) needs no restart.
      ready ??= mkdir(options.path, { recursive: true, mode: directoryMode(mode) })
        .then(() => removeAbandonedTemps(options.path))
        .catch((error: unknown) => {
          ready = undefined;
          throw error;
        });
      await ready;
      const { id } = message.envelope;
      const dataPath = join(options.path, `${id}.data`);
      const jsonPath = join(options.path, `${id}.json`);
      const temps: string[] = [];
      try {
        await writeData(message, dataPath, temps);
        if (options.format !== 'raw') await writeEvent(message, join(options.path, `${id}.ce.json`), temps);
        const jsonTemp = tempName(id);
        temps.push(jsonTemp);
        const handle = await open(jsonTemp, EXCLUSIVE_CREATE, mode);
        try {
          await setMode(handle);
          await handle.writeFile(`${JSON.stringify(message.envelope, null, 2)}\n`);
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(jsonTemp, jsonPath);
        unflushed = true;
        return { reply: `written to ${dataPath}` };
      } catch (error) {
        await Promise.all(temps.map((temp) => rm(temp, { force: true })));
        if (isDiskFull(error)) throw diskFullError(error, 'the directory destination', options.path, DELIVERY_WAITS);
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
        if (isDiskFull(error)) throw diskFullError(error, 'the directory destination', options.path, DELIVERY_WAITS);
        throw new PostroomError('DELIVERY_FAILED', `could not sync the directory ${options.path}: ${(error as Error).message}`, { cause: error });
      }
    },
    async close(): Promise<void> {},
  };
}

/**
 * Temp files a killed process left (random names are not found again by a redelivery): removed
 * once, when the destination is first used. One another worker is writing right now goes too;
 * its rename then fails and the outbox retries that message, so nothing is lost. Removing a
 * planted symlink removes the link, never its target.
 */
async function removeAbandonedTemps(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if (TEMP_NAME.test(name)) await rm(join(dir, name), { force: true }).catch(() => {});
  }
}

/** A directory's mode for files of `mode`: whoever may read the files may list and enter it. */
function directoryMode(mode: number): number {
  return mode | ((mode & 0o444) >> 2) | 0o700;
}

/**
 * Links `file` as `path` through a random temp name and a rename, so whatever sits at `path` (an
 * earlier delivery of the same id, a planted link) is replaced, never written through. The
 * content file gets the destination's mode first: the two names are one inode, and the content
 * file's own directory (0700) keeps it private there.
 */
async function linkInPlace(file: string, path: string, temp: string, mode: number, temps: string[]): Promise<void> {
  // The usual case, a first delivery: nothing is at `path`, and link(2) straight to it creates the
  // name only then (it fails with EEXIST on anything there, a planted link included, and never
  // follows one). Two calls instead of five; whatever is there already goes the careful way below.
  await chmod(file, mode);
  try {
    await link(file, path);
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const [ours, theirs] = await Promise.all([stat(file), lstat(path).catch(() => undefined)]);
  // Already this very file (delivered before a crash): rename(2) would do nothing and leave the temp.
  if (theirs && ours.ino === theirs.ino && ours.dev === theirs.dev) return;
  await link(file, temp);
  temps.push(temp);
  await rename(temp, path);
}
