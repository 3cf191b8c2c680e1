import { open } from 'node:fs/promises';

/** Flushes a file written through a stream to disk, so a rename after it publishes whole bytes. */
export async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
