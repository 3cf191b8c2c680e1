/**
 * mbsync (Debian's isync) copying the mailbox into a local Maildir: an fsync'd copy, nothing
 * parsed. The peer that shows what a mature C client does with the same server and mailbox.
 * Writes its configuration (and the CA it trusts) into the output directory's parent.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { RawTarget } from '../raw/connect.ts';

/** True when `mbsync` is on the PATH (the bench installs isync like Dovecot when it can). */
export async function hasMbsync(): Promise<boolean> {
  return promisify(execFile)('mbsync', ['--version']).then(
    () => true,
    () => false,
  );
}

/** Writes an mbsync configuration that pulls INBOX into `<out>/maildir`; returns its path. */
export async function mbsyncConfig(target: RawTarget & { ca: string }): Promise<string> {
  const caPath = join(target.out, 'ca.pem');
  const maildir = join(target.out, 'maildir');
  await mkdir(join(maildir, 'INBOX'), { recursive: true });
  await writeFile(caPath, target.ca);
  const configPath = join(target.out, 'mbsyncrc');
  await writeFile(
    configPath,
    [
      // Global options come first; FSync yes is mbsync's default, said here so the peer is plainly durable.
      'FSync yes',
      '',
      'IMAPAccount bench',
      // mbsync 1.4 matches the certificate's DNS names only, not its IP address: the fixture's is for localhost too.
      `Host ${target.host === '127.0.0.1' ? 'localhost' : target.host}`,
      `Port ${target.port}`,
      `User ${target.user}`,
      `Pass ${target.password}`,
      'SSLType IMAPS',
      `CertificateFile ${caPath}`,
      '',
      'IMAPStore bench-remote',
      'Account bench',
      '',
      'MaildirStore bench-local',
      `Path ${maildir}/`,
      `Inbox ${maildir}/INBOX`,
      '',
      'Channel bench',
      'Far :bench-remote:INBOX',
      'Near :bench-local:INBOX',
      'Sync Pull',
      'Create Near',
      `SyncState ${join(target.out, 'state')}/`,
      '',
    ].join('\n'),
  );
  await mkdir(join(target.out, 'state'), { recursive: true });
  return configPath;
}
