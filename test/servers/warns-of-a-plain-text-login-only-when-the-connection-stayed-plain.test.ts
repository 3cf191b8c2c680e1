import assert from 'node:assert/strict';
import { it } from 'node:test';
import pino from 'pino';
import { connectionWarnings } from '../../src/config/load-config.ts';
import { createDestination } from '../../src/destinations/registry.ts';
import { Worker } from '../../src/engine/worker.ts';
import { dovecotAndWorkspace } from '../support/dovecot-and-workspace.ts';
import { imapConnection, openWorkspaceStore, testConfig } from '../support/postroom.ts';
import { byLine, startTcpProxy } from '../support/tcp-proxy.ts';

it('warns after connecting that the password went unencrypted only when the server offered no STARTTLS', async () => {
  const { dovecot, ws } = await dovecotAndWorkspace();
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: dovecot.imapPort });
  const upgraded = await dovecot.addUser('upgraded', 'pw-upgraded');
  const plain = await dovecot.addUser('plain', 'pw-plain');
  // Connections through the proxy see no STARTTLS; direct ones to the plain port do.
  proxy.onServerData = byLine((line) => Buffer.from(line.toString('latin1').replace(/ STARTTLS/g, ''), 'latin1'));
  const warnings: string[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push((JSON.parse(line) as { msg: string }).msg) });
  const config = testConfig(ws, [
    imapConnection(dovecot, upgraded, { name: 'upgraded', port: dovecot.imapPort, useSsl: false }),
    imapConnection(dovecot, plain, { name: 'plain', host: '127.0.0.1', port: proxy.port, useSsl: false }),
  ]);
  assert.deepEqual(connectionWarnings(config.connections[0]!, {}, 'connections[0]'), [
    'connections[0] (upgraded): useSsl and startTls are off: the password travels unencrypted unless the server offers STARTTLS (set startTls: true to require it)',
  ]);
  const opened = await openWorkspaceStore(config);
  const worker = new Worker({ createDestination, config, opened, log });
  try {
    for (const connection of config.connections) assert.equal((await worker.poll(connection)).status, 'done');
    const plainText = warnings.filter((w) => /WITHOUT TLS/.test(w));
    assert.deepEqual(plainText, [
      'logged in WITHOUT TLS: the server offered no STARTTLS, so the password and emails travel unencrypted; set useSsl: true (port 993) or startTls: true to require TLS',
    ]);
  } finally {
    await worker.stop();
    await opened.store.close();
    await proxy.close();
  }
});
