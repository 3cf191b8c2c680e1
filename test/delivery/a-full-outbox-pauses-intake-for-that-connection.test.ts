import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import pino from 'pino';
import { createDestination } from '../../src/destinations/registry.ts';
import { ROOM_CHECK_MS } from '../../src/engine/outbox-room.ts';
import { Worker } from '../../src/engine/worker.ts';
import { makeEmail } from '../support/corpus.ts';
import { dovecotAndWorkspace } from '../support/dovecot-and-workspace.ts';
import { imapConnection, openWorkspaceStore, readDelivered, testConfig } from '../support/postroom.ts';
import { waitFor } from '../support/wait-for.ts';

const EMAILS = 6;
const MAX_PENDING = 2;

/** Long enough for a poll and a few deliveries on a busy machine. */
const WAIT_MS = 20_000;

const { dovecot, ws } = await dovecotAndWorkspace();

describe('backpressure', () => {
  it('pauses intake while the outbox holds maxPending undelivered messages, logs once, and resumes when deliveries make room', async () => {
    const user = await dovecot.addUser('backpressure', 'secret-backpressure');
    const emails = Array.from({ length: EMAILS }, (_, i) => makeEmail({ subject: `pressure ${i}`, text: `email ${i}\n` }));
    await dovecot.deliverMany(
      user.name,
      emails.map((e) => e.raw),
    );
    const config = testConfig(ws, [imapConnection(dovecot, user)], { outbox: { maxPending: MAX_PENDING } });
    const lines: Array<{ msg: string; connection?: string }> = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string }) });
    const opened = await openWorkspaceStore(config);
    const worker = new Worker({ createDestination, config, opened, log });
    const pauses = (): number => lines.filter((l) => l.msg.startsWith('outbox full: pausing intake')).length;
    const resumes = (): number => lines.filter((l) => l.msg.startsWith('outbox has room again')).length;
    try {
      // Nothing delivers yet: the outbox can only grow.
      let finished = false;
      const poll = worker.poll(config.connections[0]!).finally(() => {
        finished = true;
      });
      await waitFor('intake to pause', () => pauses() === 1, WAIT_MS, 25);
      assert.equal(await opened.store.outboxDepth('inbox'), MAX_PENDING, 'paused at the bound');
      await delay(3 * ROOM_CHECK_MS);
      assert.equal(finished, false, 'still paused');
      assert.equal(await opened.store.outboxDepth('inbox'), MAX_PENDING, 'no email taken while paused');
      assert.equal(pauses(), 1, 'one log line for the pause, not one per check');
      assert.equal(resumes(), 0);
      assert.equal(lines.find((l) => l.msg.startsWith('outbox full'))?.connection, 'inbox', 'the log names the connection');
      assert.equal(
        (await dovecot.listMessages(user.name)).filter((m) => m.flags.includes('\\Seen')).length,
        0,
        'emails not taken stay on the server, unacknowledged',
      );

      worker.delivery.start();
      const outcome = await poll;
      assert.equal(outcome.status, 'done', JSON.stringify(outcome));
      assert.ok(resumes() >= 1, 'intake resumed');
      assert.equal(resumes(), pauses(), 'each pause is followed by one resume line');
      await waitFor('every email to be delivered', async () => (await readDelivered(ws.outDir)).length === EMAILS, WAIT_MS, 25);
      assert.equal(
        (await dovecot.listMessages(user.name)).filter((m) => m.flags.includes('\\Seen')).length,
        EMAILS,
        'every email read and acknowledged in the end',
      );
    } finally {
      await worker.stop();
      await opened.store.close();
    }
  });
});
