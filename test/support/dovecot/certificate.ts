/** The self-signed certificate every instance serves TLS with. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { run } from './commands.ts';

export interface Certificate {
  certPem: string;
  keyPem: string;
}

// Key generation costs a noticeable fraction of a second, so one certificate serves every
// instance this process starts.
export let certificatePromise: Promise<Certificate> | undefined;

export function selfSignedCertificate(): Promise<Certificate> {
  certificatePromise ??= generateCertificate();
  certificatePromise.catch(() => {
    certificatePromise = undefined;
  });
  return certificatePromise;
}

export async function generateCertificate(): Promise<Certificate> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pr-cert-'));
  try {
    const certPath = path.join(dir, 'cert.pem');
    const keyPath = path.join(dir, 'key.pem');
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout',
      keyPath,
      '-out',
      certPath,
    ]);
    return { certPem: await readFile(certPath, 'utf8'), keyPem: await readFile(keyPath, 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
