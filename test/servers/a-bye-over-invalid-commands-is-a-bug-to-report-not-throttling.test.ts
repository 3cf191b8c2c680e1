import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createDestination } from '../../src/destinations/registry.ts';
import { Worker } from '../../src/engine/worker.ts';
import { throttleAccount } from '../../src/throttle/account.ts';
import { makeEmail } from '../support/corpus.ts';
import { dovecotAndWorkspace } from '../support/dovecot-and-workspace.ts';
import { imapConnection, openWorkspaceStore, quietLog, readDelivered, testConfig } from '../support/postroom.ts';
import { byLine, startTcpProxy } from '../support/tcp-proxy.ts';

/** More malformed commands than Dovecot takes from one session before it says BYE (it takes 20). */
const BAD_COMMANDS = 40;

it('reports "* BYE Too many invalid IMAP commands" as a bug, does not pause the account, and delivers once on the next poll', async () => {
  const { dovecot, ws } = await dovecotAndWorkspace();
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: dovecot.imapPort });
  const user = await dovecot.addUser('bye-bug', 'pw-bye-bug');
  await dovecot.deliverMany(
    user.name,
    [0, 1].map((i) => makeEmail({ subject: `bye ${i}`, text: `body ${i}` }).raw),
  );
  let broken = true;
  // Plain IMAP so the proxy sees the commands; STARTTLS is hidden from the client.
  // The malformed commands go one at a time, the next after Dovecot's answer to the last: sent
  // all at once, Dovecot would close with some still unread, which makes the kernel send a
  // reset that can discard the BYE before it reaches anyone.
  proxy.onServerData = byLine((line, connection) => {
    const text = line.toString('latin1');
    const answered = /^z(\d+) /.exec(text);
    if (answered) {
      const next = Number(answered[1]) + 1;
      if (next < BAD_COMMANDS) connection.injectToServer(`z${next} UID FETCH not-a-uid-set\r\n`);
      // Dovecot's answers to the malformed commands go nowhere: the client did not send them.
      return null;
    }
    return Buffer.from(text.replace(/ STARTTLS/g, ''), 'latin1');
  });
  // Before the first search, malformed commands reach Dovecot until it ends the session itself.
  proxy.onClientData = byLine((line, connection) => {
    if (broken && /^\S+ UID SEARCH /i.test(line.toString('latin1'))) {
      broken = false;
      connection.injectToServer('z0 UID FETCH not-a-uid-set\r\n');
      return null;
    }
    return line;
  });
  const config = testConfig(ws, [imapConnection(dovecot, user, { port: proxy.port, useSsl: false })]);
  const opened = await openWorkspaceStore(config);
  const worker = new Worker({ createDestination, config, opened, log: quietLog });
  try {
    const first = await worker.poll(config.connections[0]!);
    assert.ok(first.status === 'failed', `a failed poll, not a throttled one: ${JSON.stringify(first)}`);
    assert.equal(first.error.code, 'PROTOCOL_ERROR');
    assert.match(first.error.explain(), /the server ended the session: "Too many invalid IMAP commands\.?"/);
    assert.match(first.error.explain(), /this is a bug, not throttling.*Please report it/);
    assert.equal(await opened.store.getThrottle(throttleAccount(config.connections[0]!)), undefined, 'the account is not paused');
    const state = await opened.store.getConnectionState('inbox');
    assert.match(state?.lastPoll?.error ?? '', /Too many invalid IMAP commands/, 'the connection shows it');

    const second = await worker.poll(config.connections[0]!);
    assert.equal(second.status, 'done', JSON.stringify(second));
    await worker.delivery.drain();
    assert.deepEqual((await readDelivered(ws.outDir)).map((d) => d.envelope.email.subject).sort(), ['bye 0', 'bye 1']);
  } finally {
    await worker.stop();
    await opened.store.close();
    await proxy.close();
  }
});
