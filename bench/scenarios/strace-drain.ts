/**
 * One Postroom IMAP drain under `strace -c -f` (every thread, the libuv pool's included): the
 * system calls it made, per email, with the file-system ones and the fsyncs counted apart.
 * strace slows the process down, so this run's time is not a measurement; its counts are.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Dovecot, DovecotUser } from '../../test/support/dovecot.ts';
import type { Mailbox } from '../mailbox.ts';
import { type DrainOptions, drainOnce } from './drain.ts';

/** Calls that reach the file system (reads and writes are counted apart: they include the sockets). */
const FILE_SYSTEM_CALLS = new Set([
  'open',
  'openat',
  'close',
  'stat',
  'lstat',
  'fstat',
  'newfstatat',
  'statx',
  'access',
  'faccessat2',
  'rename',
  'renameat',
  'renameat2',
  'link',
  'linkat',
  'unlink',
  'unlinkat',
  'mkdir',
  'mkdirat',
  'fsync',
  'fdatasync',
  'pread64',
  'pwrite64',
  'preadv',
  'pwritev',
  'ftruncate',
  'getdents64',
  'fchmod',
  'fchown',
  'lseek',
  'futimens',
  'utimensat',
]);

export interface SyscallCounts {
  emails: number;
  perEmail: { fsyncs: number; fileSystem: number; readWrite: number; all: number };
  /** The 15 most frequent calls, per email. */
  top: Array<{ call: string; perEmail: number }>;
}

export async function stracedDrain(dovecot: Dovecot, user: DovecotUser, mailbox: Mailbox, options: DrainOptions): Promise<SyscallCounts> {
  const dir = await mkdtemp(join(tmpdir(), 'postroom-bench-strace-'));
  try {
    const out = join(dir, 'strace.txt');
    await drainOnce('postroom', 'imap', dovecot, user, mailbox, { ...options, wrap: ['strace', '-c', '-f', '-o', out] });
    return countsOf(await readFile(out, 'utf8'), mailbox.emails);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Reads strace -c's table: `% time  seconds  usecs/call  calls  [errors]  syscall`. */
export function countsOf(summary: string, emails: number): SyscallCounts {
  const calls = new Map<string, number>();
  for (const line of summary.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 5 || !/^\d/.test(fields[0]!)) continue;
    const name = fields.at(-1)!;
    if (name === 'total') continue;
    calls.set(name, Number(fields[3]));
  }
  const sum = (pick: (name: string) => boolean): number => [...calls].filter(([name]) => pick(name)).reduce((total, [, count]) => total + count, 0);
  const per = (count: number): number => Math.round((count / emails) * 10) / 10;
  return {
    emails,
    perEmail: {
      fsyncs: per(sum((name) => name === 'fsync' || name === 'fdatasync')),
      fileSystem: per(sum((name) => FILE_SYSTEM_CALLS.has(name))),
      readWrite: per(sum((name) => ['read', 'write', 'readv', 'writev'].includes(name))),
      all: per(sum(() => true)),
    },
    top: [...calls]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([call, count]) => ({ call, perEmail: per(count) })),
  };
}
