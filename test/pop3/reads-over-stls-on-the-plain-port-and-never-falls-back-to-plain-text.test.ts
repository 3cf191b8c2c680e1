import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeEmail } from '../support/corpus.ts';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import { pop3Connection, readDelivered, runOnce, testConfig, type Workspace, workspace } from '../support/postroom.ts';
import { byLine, startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';

describe('POP3 over STLS', () => {
  let dovecot: Dovecot;
  let proxy: TcpProxy;
  const workspaces: Workspace[] = [];

  before(async () => {
    dovecot = await startDovecot();
    proxy = await startTcpProxy({ host: dovecot.host, port: dovecot.pop3Port });
  });
  after(async () => {
    await proxy?.close();
    await dovecot?.stop();
    for (const ws of workspaces) await ws.dispose();
  });

  it('upgrades the plain port with STLS before the password is sent, and delivers', async () => {
    const ws = await workspace();
    workspaces.push(ws);
    const user = await dovecot.addUser('stls', 'secret-stls');
    const email = makeEmail({ subject: 'over STLS', text: 'hello through STLS\n' });
    await dovecot.deliver(user.name, email.raw);
    let fromClient = Buffer.alloc(0);
    proxy.onClientData = (chunk) => {
      fromClient = Buffer.concat([fromClient, chunk]);
      return chunk;
    };

    const config = testConfig(ws, [pop3Connection(dovecot, user, { port: proxy.port, useSsl: false, startTls: true })]);
    const { polls } = await runOnce(config);
    proxy.onClientData = undefined;
    const outcome = polls.get('inbox');
    assert.equal(outcome?.status, 'done', JSON.stringify(outcome));

    const wire = fromClient.toString('latin1');
    assert.ok(wire.startsWith('CAPA\r\nSTLS\r\n'), `the client asks for STLS first: ${JSON.stringify(wire.slice(0, 40))}`);
    assert.ok(!wire.includes('secret-stls') && !wire.includes('USER stls'), 'nothing after STLS travels in plain text');

    const delivered = await readDelivered(ws.outDir);
    assert.deepEqual(
      delivered.map((d) => [d.envelope.kind, d.sha256]),
      email.expected.parts.map((p) => [p.kind, p.sha256]),
    );
    assert.deepEqual(await dovecot.listMessages(user.name), []);
  });

  it('refuses to log in when the server does not offer STLS, and keeps the mail', async () => {
    const ws = await workspace();
    workspaces.push(ws);
    const user = await dovecot.addUser('nostls', 'secret-nostls');
    await dovecot.deliver(user.name, makeEmail({ subject: 'stays', text: 'stays\n' }).raw);
    // A man in the middle strips STLS from the capabilities.
    proxy.onServerData = byLine((line) => (line.toString('latin1') === 'STLS\r\n' ? null : line));
    let fromClient = '';
    proxy.onClientData = (chunk) => {
      fromClient += chunk.toString('latin1');
      return chunk;
    };

    const config = testConfig(ws, [pop3Connection(dovecot, user, { port: proxy.port, useSsl: false, startTls: true })]);
    const { polls } = await runOnce(config);
    proxy.onServerData = undefined;
    proxy.onClientData = undefined;
    const outcome = polls.get('inbox');
    assert.equal(outcome?.status, 'failed', JSON.stringify(outcome));
    assert.equal(outcome.status === 'failed' && outcome.error.code, 'CAPABILITY_MISSING');
    assert.match(outcome.status === 'failed' ? outcome.error.explain() : '', /does not offer STLS/);
    assert.ok(!fromClient.includes('secret-nostls') && !fromClient.includes('USER'), 'no credentials were sent in plain text');
    assert.equal((await dovecot.listMessages(user.name)).length, 1, 'the email stays on the server');
  });
});
