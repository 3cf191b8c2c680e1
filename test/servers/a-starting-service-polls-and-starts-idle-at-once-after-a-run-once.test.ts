import assert from 'node:assert/strict';
import { it } from 'node:test';
import { deliveredWithSubject, startWorker } from '../idle/idle-kit.ts';
import { makeEmail } from '../support/corpus.ts';
import { dovecotAndWorkspace } from '../support/dovecot-and-workspace.ts';
import { imapConnection, readDelivered, runOnce, testConfig } from '../support/postroom.ts';
import { waitFor } from '../support/wait-for.ts';

/** Far beyond the waits below: a service that waited for the next due time would never get there. */
const POLLING_INTERVAL = '1h';
const WAIT_MS = 15_000;

it('polls at once and starts IDLE when the service starts after a run --once, and delivers each email once', async () => {
  const { dovecot, ws } = await dovecotAndWorkspace();
  const user = await dovecot.addUser('starter', 'pw-starter');
  const config = testConfig(ws, [imapConnection(dovecot, user, { pollingInterval: POLLING_INTERVAL })]);
  await dovecot.deliverMany(user.name, [makeEmail({ subject: 'before the run', text: 'a' }).raw]);
  const once = (await runOnce(config)).polls.get('inbox');
  assert.equal(once?.status, 'done');
  // Arrives between the run --once and the service: only a poll at start takes it.
  await dovecot.append(user.name, makeEmail({ subject: 'between', text: 'b' }).raw);

  const running = await startWorker(config);
  try {
    await waitFor('the mail that came between the two taken by the first poll', async () => (await deliveredWithSubject(ws.outDir, 'between')) > 0, WAIT_MS);
    await waitFor('the IDLE watcher connected', () => running.polls.length >= 2, WAIT_MS);
    await dovecot.append(user.name, makeEmail({ subject: 'pushed', text: 'c' }).raw);
    await waitFor('the mail IDLE announced', async () => (await deliveredWithSubject(ws.outDir, 'pushed')) > 0, WAIT_MS);
  } finally {
    await running.stop();
  }
  assert.deepEqual((await readDelivered(ws.outDir)).map((d) => d.envelope.email.subject).sort(), ['before the run', 'between', 'pushed']);
});
