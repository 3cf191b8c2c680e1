/** A throwaway self-signed certificate for 127.0.0.1 / localhost, made with openssl for the fake servers. */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

export interface TestCertificate {
  certPem: string;
  keyPem: string;
}

let made: Promise<TestCertificate> | undefined;

/** One per process: key generation takes a noticeable fraction of a second. */
export function generateTestCertificate(): Promise<TestCertificate> {
  made ??= generateCertificateFor('localhost', ['DNS:localhost', 'IP:127.0.0.1']);
  made.catch(() => {
    made = undefined;
  });
  return made;
}

/** A self-signed certificate for exactly the names given (e.g. 'DNS:mail.example.test' or 'IP:127.0.0.1'), to test name checks. */
export async function generateCertificateFor(commonName: string, subjectAltNames: string[]): Promise<TestCertificate> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pr-named-cert-'));
  try {
    const certPath = path.join(dir, 'cert.pem');
    const keyPath = path.join(dir, 'key.pem');
    await promisify(execFile)('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${commonName}`,
      '-addext',
      `subjectAltName=${subjectAltNames.join(',')}`,
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
