/**
 * STLS to a server named by its IP address checks the certificate against that address (an IP
 * SAN), not against "localhost" nor any other name: a certificate made for another name is
 * refused before the password is sent and the mail stays; one with the right IP SAN connects.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeEmail } from '../support/corpus.ts';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import { generateCertificateFor, type TestCertificate } from '../support/fake-certificate.ts';
import { pop3Connection, readDelivered, runOnce, testConfig, type Workspace, workspace } from '../support/postroom.ts';

describe('POP3 STLS to an IP address', () => {
  let dovecot: Dovecot;
  const workspaces: Workspace[] = [];
  let serial = 0;

  before(async () => {
    dovecot = await startDovecot();
  });
  after(async () => {
    await dovecot?.stop();
    for (const ws of workspaces) await ws.dispose();
  });

  /** Dovecot presents `certificate` from now on; the client trusts it as its CA. */
  async function present(certificate: TestCertificate): Promise<void> {
    serial++;
    const certPath = join(dovecot.dir, `named-${serial}.pem`);
    const keyPath = join(dovecot.dir, `named-${serial}.key`);
    await writeFile(certPath, certificate.certPem);
    await writeFile(keyPath, certificate.keyPem, { mode: 0o600 });
    await dovecot.reconfigure({ extraConfig: `ssl_cert = <${certPath}\nssl_key = <${keyPath}\n` });
  }

  async function poll(name: string, certificate: TestCertificate) {
    const ws = await workspace();
    workspaces.push(ws);
    const user = await dovecot.addUser(name, `secret-${name}`);
    await dovecot.deliver(user.name, makeEmail({ subject: name, text: `${name}\n` }).raw);
    const config = testConfig(ws, [pop3Connection(dovecot, user, { port: dovecot.pop3Port, useSsl: false, startTls: true, tls: { ca: certificate.certPem } })]);
    const { polls } = await runOnce(config);
    return { outcome: polls.get('inbox'), ws, user };
  }

  for (const [label, commonName, names] of [
    ['localhost only', 'localhost', ['DNS:localhost']],
    ['another host name', 'mail.example.test', ['DNS:mail.example.test']],
    ['another IP address', 'mail.example.test', ['IP:127.0.0.9']],
  ] as const) {
    it(`refuses a certificate for ${label} and keeps the mail`, async () => {
      const certificate = await generateCertificateFor(commonName, [...names]);
      await present(certificate);
      const { outcome, user } = await poll(`wrongname${serial}`, certificate);
      assert.equal(outcome?.status, 'failed', JSON.stringify(outcome));
      assert.equal(outcome.status === 'failed' && outcome.error.code, 'TLS_CERTIFICATE', outcome.status === 'failed' ? outcome.error.message : '');
      assert.match(outcome.status === 'failed' ? outcome.error.message : '', /127\.0\.0\.1/);
      assert.equal((await dovecot.listMessages(user.name)).length, 1, 'the email stays on the server');
    });
  }

  it('connects when the certificate names the IP address', async () => {
    const certificate = await generateCertificateFor('mail.example.test', ['IP:127.0.0.1']);
    await present(certificate);
    const { outcome, ws, user } = await poll('rightip', certificate);
    assert.equal(outcome?.status, 'done', JSON.stringify(outcome));
    assert.equal((await readDelivered(ws.outDir)).length, 1);
    assert.deepEqual(await dovecot.listMessages(user.name), []);
  });
});
