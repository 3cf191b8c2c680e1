/** Test users: one passwd-file line each, owned by the mail owner. */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import type { DovecotUser } from './options.ts';

export const MAIL_OWNER = 'dovenull';

export interface MailOwner {
  uid: number;
  gid: number;
}

export function passwdLine(user: DovecotUser, owner: MailOwner): string {
  return `${user.name}:{PLAIN}${user.password}:${owner.uid}:${owner.gid}::${user.home}::\n`;
}

export function assertValidCredentials(name: string, password: string): void {
  // The name is also a file name (see renderConfig).
  if (!/^[A-Za-z0-9_@+-][A-Za-z0-9._@+-]*$/.test(name)) throw new Error(`Unsupported Dovecot test user name: ${JSON.stringify(name)}`);
  // The passwd-file format is colon separated, one user a line.
  if (/[:\r\n]/.test(password) || password === '') {
    throw new Error('Dovecot test passwords must be non-empty and contain no colon or line break');
  }
}

/** The uid/gid that owns all mail; Dovecot refuses mail folders owned by anyone else. */
export function mailOwner(): MailOwner {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith(`${MAIL_OWNER}:`));
  const fields = line?.split(':') ?? [];
  const uid = Number(fields[2]);
  const gid = Number(fields[3]);
  if (!line || !Number.isInteger(uid) || !Number.isInteger(gid)) {
    throw new Error(`System user ${MAIL_OWNER} not found: is Dovecot installed (dovecot-core)?`);
  }
  return { uid, gid };
}

export async function writeFileAtomically(filePath: string, content: string, mode: number): Promise<void> {
  const tmpPath = `${filePath}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmpPath, content, { mode });
  await rename(tmpPath, filePath);
}
