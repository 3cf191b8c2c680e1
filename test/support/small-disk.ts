/**
 * A small file system of its own (a tmpfs) for disk-full tests: filled up to a few bytes by a
 * filler file, emptied again by removing it. Mounting needs root (CAP_SYS_ADMIN); `smallDisk`
 * returns a reason instead when the machine does not allow it, for the test to skip with.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, open, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface SmallDisk {
  path: string;
  /** Fills the disk until at most `leaveBytes` are free. */
  fill(leaveBytes?: number): Promise<void>;
  /** Frees what `fill` took. */
  free(): Promise<void>;
  /** Bytes still free. */
  available(): Promise<number>;
  dispose(): Promise<void>;
}

export async function smallDisk(sizeBytes: number): Promise<SmallDisk | { skip: string }> {
  const path = await mkdtemp(join(tmpdir(), 'postroom-small-disk-'));
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0755`, 'tmpfs', path]);
  } catch (error) {
    await rm(path, { recursive: true, force: true });
    return { skip: `cannot mount a tmpfs for a full disk (needs root): ${(error as Error).message.split('\n')[0]}` };
  }
  const filler = join(path, '.filler');
  const available = async (): Promise<number> => {
    const stats = await statfs(path);
    return stats.bavail * stats.bsize;
  };
  return {
    path,
    available,
    async fill(leaveBytes = 0) {
      const handle = await open(filler, 'a');
      try {
        const chunk = Buffer.alloc(64 * 1024);
        for (;;) {
          const room = (await available()) - leaveBytes;
          if (room <= 0) break;
          try {
            await handle.write(chunk, 0, Math.min(chunk.length, room));
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
            throw error;
          }
        }
      } finally {
        await handle.close();
      }
    },
    async free() {
      await rm(filler, { force: true });
    },
    async dispose() {
      await run('umount', ['-l', path]).catch(() => undefined);
      await rm(path, { recursive: true, force: true });
    },
  };
}
