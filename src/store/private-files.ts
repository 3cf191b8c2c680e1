/**
 * The modes of everything the store writes: its files hold passwords (the SQLite file and its
 * WAL) and whole emails (content files), so only the account Postroom runs as may read them.
 * Set explicitly at creation (never through the process umask, which is global) and enforced
 * again at open on files an older version left readable.
 */
import { chmodSync } from 'node:fs';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** chmod, where a missing path is not an error (a WAL that does not exist yet). */
export function chmodIfPresent(path: string, mode: number): void {
  try {
    chmodSync(path, mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
