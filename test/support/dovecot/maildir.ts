/** Writing messages straight into a user's Maildir: folders, ownership, flags, UID order. */
import { randomBytes } from 'node:crypto';
import { chown, mkdir, open, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DovecotUser } from './options.ts';
import type { MailOwner } from './users.ts';

export const FLAG_LETTERS: Record<string, string> = {
  '\\Draft': 'D',
  '\\Flagged': 'F',
  '\\Answered': 'R',
  '\\Seen': 'S',
  '\\Deleted': 'T',
};

export let lastStampMicros = 0;

export async function ensureMaildir(maildir: string, owner: MailOwner): Promise<void> {
  await mkdir(maildir, { recursive: true, mode: 0o700 });
  await chown(maildir, owner.uid, owner.gid);
  for (const sub of ['cur', 'new', 'tmp']) {
    const subDir = path.join(maildir, sub);
    await mkdir(subDir, { recursive: true, mode: 0o700 });
    await chown(subDir, owner.uid, owner.gid);
  }
}

/** The Maildir directory of `folder` (INBOX is the Maildir itself), created if missing. */
export async function ensureFolder(user: DovecotUser, folder: string | undefined, owner: MailOwner): Promise<string> {
  const imapName = imapFolderName(folder);
  if (imapName === 'INBOX') return user.maildir;
  const folderDir = path.join(user.maildir, `.${imapName}`);
  await ensureMaildir(folderDir, owner);
  const marker = path.join(folderDir, 'maildirfolder');
  await writeFile(marker, '', { flag: 'a' });
  await chown(marker, owner.uid, owner.gid);
  return folderDir;
}

/** IMAP name of a folder: INBOX in any case is INBOX; '/' is read as Dovecot's maildir++ separator '.'. */
export function imapFolderName(folder: string | undefined): string {
  if (folder === undefined || folder.toUpperCase() === 'INBOX') return 'INBOX';
  if (folder === '' || folder.startsWith('.') || folder.includes('..')) throw new Error(`Unsupported folder name ${JSON.stringify(folder)}`);
  return folder.replaceAll('/', '.');
}

/**
 * Writes one message the way an MDA does: into tmp/, then renamed into new/ (or cur/ with
 * flags) so Dovecot never sees a partial file. Name: `<time>.<unique>.<host>,S=<size>[:2,<flags>]`.
 */
export async function writeMaildirMessage(folderDir: string, raw: Buffer, flags: string[], owner: MailOwner): Promise<void> {
  const base = `${uniqueBaseName()},S=${raw.length}`;
  const tmpPath = path.join(folderDir, 'tmp', base);
  const finalPath = flags.length > 0 ? path.join(folderDir, 'cur', `${base}:2,${flagLetters(flags)}`) : path.join(folderDir, 'new', base);
  const handle = await open(tmpPath, 'wx', 0o600);
  try {
    await handle.writeFile(raw);
    await handle.chown(owner.uid, owner.gid);
  } finally {
    await handle.close();
  }
  await rename(tmpPath, finalPath);
}

/**
 * Dovecot gives new mail its UIDs in the order of the time stamp in the file name, so each name
 * gets a strictly larger (seconds, microseconds) than the one before: UIDs follow delivery order
 * even for many deliveries within one millisecond.
 */
export function uniqueBaseName(): string {
  lastStampMicros = Math.max(Date.now() * 1000, lastStampMicros + 1);
  const seconds = Math.floor(lastStampMicros / 1_000_000);
  const micros = lastStampMicros % 1_000_000;
  return `${seconds}.M${micros}P${process.pid}R${randomBytes(6).toString('hex')}.postroom-test`;
}

export function flagLetters(flags: string[]): string {
  const letters = flags.map((flag) => {
    const letter = FLAG_LETTERS[flag];
    // Keywords would need the dovecot-keywords file; use append() for those.
    if (letter === undefined) throw new Error(`deliver() supports only system flags, not ${flag}; use append() for keywords`);
    return letter;
  });
  // Maildir requires the info letters in ASCII order, without duplicates.
  return [...new Set(letters)].sort().join('');
}

export function toBuffer(raw: Buffer | string): Buffer {
  return typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
}

export async function forEachConcurrently<T>(items: Iterable<T>, limit: number, work: (item: T) => Promise<void>): Promise<void> {
  const iterator = items[Symbol.iterator]();
  const worker = async (): Promise<void> => {
    for (let next = iterator.next(); !next.done; next = iterator.next()) await work(next.value);
  };
  await Promise.all(Array.from({ length: limit }, worker));
}
