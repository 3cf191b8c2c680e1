/**
 * S/MIME as a real implementation writes it: openssl signs (opaque and detached, streamed BER
 * and DER) and encrypts a small email here, with a throwaway certificate, and the splitter must
 * unwrap the signed content, keep the signature, and keep the encrypted email whole.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { generateTestCertificate } from '../support/fake-certificate.ts';
import { readPart, split, type TempStore, tempStore } from './mime-test-kit.ts';

const run = promisify(execFile);
const PDF = Buffer.from('%PDF-1.4\n% contract\n%%EOF\n', 'latin1');
const ENTITY = [
  'Content-Type: multipart/mixed; boundary="inner"',
  '',
  '--inner',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'Signed by openssl.',
  '--inner',
  'Content-Type: application/pdf',
  'Content-Disposition: attachment; filename="contract.pdf"',
  'Content-Transfer-Encoding: base64',
  '',
  PDF.toString('base64'),
  '--inner--',
  '',
].join('\r\n');
const HEAD = ['From: signer@postroom.test', 'To: receiver@postroom.test', 'Subject: From openssl', 'Message-ID: <openssl@postroom.test>', ''].join('\r\n');

describe('reads signed and encrypted S/MIME made by openssl', () => {
  let dir: string;
  let store: TempStore;
  let cert: string;
  let key: string;
  let entity: string;

  before(async () => {
    store = await tempStore();
    dir = await mkdtemp(join(tmpdir(), 'pr-smime-'));
    const made = await generateTestCertificate();
    [cert, key, entity] = [join(dir, 'cert.pem'), join(dir, 'key.pem'), join(dir, 'entity.eml')];
    await writeFile(cert, made.certPem);
    await writeFile(key, made.keyPem);
    await writeFile(entity, ENTITY);
  });
  after(async () => {
    await store?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  async function smime(args: string[], recipients: string[] = []): Promise<Buffer> {
    const out = join(dir, `out-${args.join('-').replace(/\W+/g, '')}.eml`);
    await run('openssl', ['smime', ...args, '-in', entity, '-out', out, ...recipients]);
    return Buffer.concat([Buffer.from(HEAD, 'utf8'), await readFile(out)]);
  }

  for (const stream of [true, false]) {
    it(`unwraps opaque-signed content (${stream ? 'streamed BER' : 'DER'}) and keeps the .p7m`, async () => {
      const raw = await smime(['-sign', '-nodetach', '-signer', cert, '-inkey', key, ...(stream ? ['-stream'] : [])]);
      const result = await split(raw, store.content);
      assert.deepEqual(
        result.parts.map((part) => `${part.kind}:${part.filename}`),
        ['body:body.txt', 'attachment:smime.p7m', 'attachment:contract.pdf'],
      );
      const pdf = result.parts.find((part) => part.filename === 'contract.pdf')!;
      assert.equal(pdf.sha256, createHash('sha256').update(PDF).digest('hex'));
      assert.equal((await readPart(store.content, result.parts[0]!.contentRef)).toString('utf8'), 'Signed by openssl.');
      assert.deepEqual(result.email.signed, { protocol: 'application/pkcs7-mime' });
      assert.equal(result.email.encrypted, undefined);
    });
  }

  it('splits detached-signed email and delivers the signature as an attachment', async () => {
    const raw = await smime(['-sign', '-signer', cert, '-inkey', key]);
    const result = await split(raw, store.content);
    assert.deepEqual(
      result.parts.map((part) => `${part.kind}:${part.filename}`),
      ['body:body.txt', 'attachment:contract.pdf', 'attachment:smime.p7s'],
    );
    assert.deepEqual(result.email.signed, { protocol: 'application/x-pkcs7-signature' });
  });

  it('keeps encrypted email whole as the original', async () => {
    const raw = await smime(['-encrypt', '-aes256'], [cert]);
    const result = await split(raw, store.content);
    assert.deepEqual(
      result.parts.map((part) => `${part.kind}:${part.filename}`),
      ['original:original.eml'],
    );
    assert.equal(result.parts[0]!.sha256, createHash('sha256').update(raw).digest('hex'));
    assert.equal(result.parts[0]!.parseError, undefined);
    assert.equal(result.email.encrypted, true);
  });
});
