/**
 * Run when a store with local content files opens: makes the content directory private again
 * (0700 directories, 0600 files, for stores an older version left readable) and removes content
 * files a crash left behind: written but never committed, or delivered but not yet removed. A
 * file goes only when no ledger or outbox row refers to it and it is older than the safety margin.
 */
import { chmod, lstat, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../private-files.ts';
import { REF } from './fs-content-store.ts';

/**
 * A content file is committed within seconds of being written (a group of emails, then its
 * commit); one hour leaves room for a slow group on a worker still running against a shared
 * content directory, whose fresh, not yet committed files must never be removed.
 */
export const ORPHAN_SAFETY_MARGIN_MS = 60 * 60_000;
const SUBDIR = /^[0-9a-f]{2}$/;

export interface SweepResult {
  /** Content files seen. */
  files: number;
  /** Unreferenced old files removed. */
  removed: number;
}

export async function sweepContentDir(root: string, referenced: (refs: readonly string[]) => Promise<Set<string>>, now: number): Promise<SweepResult> {
  await mkdir(root, { recursive: true, mode: PRIVATE_DIR_MODE });
  await chmod(root, PRIVATE_DIR_MODE);
  const old: string[] = [];
  let files = 0;
  for (const sub of await readdir(root, { withFileTypes: true })) {
    if (!sub.isDirectory() || !SUBDIR.test(sub.name)) continue;
    const dir = join(root, sub.name);
    await chmod(dir, PRIVATE_DIR_MODE);
    for (const name of await readdir(dir)) {
      const ref = `${sub.name}/${name}`;
      if (!REF.test(ref)) continue;
      const info = await lstat(join(root, ref)).catch(() => undefined);
      if (!info?.isFile()) continue;
      files++;
      if ((info.mode & 0o777) !== PRIVATE_FILE_MODE) await chmod(join(root, ref), PRIVATE_FILE_MODE);
      if (info.mtimeMs < now - ORPHAN_SAFETY_MARGIN_MS) old.push(ref);
    }
  }
  if (old.length === 0) return { files, removed: 0 };
  const keep = await referenced(old);
  const orphans = old.filter((ref) => !keep.has(ref));
  for (const ref of orphans) await rm(join(root, ref), { force: true });
  return { files, removed: orphans.length };
}
