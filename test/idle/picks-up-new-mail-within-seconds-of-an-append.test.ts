import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { makeEmail } from '../support/corpus.ts';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import { imapConnection, readDelivered, testConfig, type Workspace, workspace } from '../support/postroom.ts';
import { deliveredWithSubject, type RunningWorker, startWorker, until } from './idle-kit.ts';

/**
 * IDLE should take about a second; 5 s keeps the test steady on a loaded machine while still
 * failing plainly without IDLE (the polling interval is an hour). The real figure is in the bench.
 */
const PICKUP_LIMIT_MS = 5_000;

let dovecot: Dovecot;
let ws: Workspace;
let running: RunningWorker | undefined;

before(async () => {
  dovecot = await startDovecot();
  ws = await workspace();
});
after(async () => {
  await running?.stop();
  await dovecot?.stop();
  await ws?.dispose();
});

it('delivers each email appended to the watched folder within seconds, once', async () => {
  const user = await dovecot.addUser('idler', 'pw-idler');
  running = await startWorker(testConfig(ws, [imapConnection(dovecot, user, { pollingInterval: '1h' })]));
  const { polls } = running;
  // The first scheduled poll, then the catch-up poll the watcher asks for once it is connected.
  await until('the first poll and the watcher catch-up poll', () => polls.length >= 2, 15_000);
  assert.ok(
    polls.every((outcome) => outcome.status === 'done'),
    JSON.stringify(polls),
  );

  const subjects = ['idle one', 'idle two', 'idle three'];
  for (const subject of subjects) {
    const started = Date.now();
    await dovecot.append(user.name, makeEmail({ subject, text: `${subject}\n` }).raw);
    await until(`"${subject}" in the destination`, async () => (await deliveredWithSubject(ws.outDir, subject)) > 0, PICKUP_LIMIT_MS);
    const took = Date.now() - started;
    assert.ok(took < PICKUP_LIMIT_MS, `picked up ${took} ms after the APPEND`);
  }

  const delivered = await readDelivered(ws.outDir);
  assert.deepEqual(delivered.map((d) => d.envelope.email.subject).sort(), [...subjects].sort(), 'each email exactly once');
  const flags = await dovecot.listMessages(user.name);
  assert.ok(flags.length === 3 && flags.every((m) => m.flags.includes('\\Seen')), 'every email acknowledged');
});
