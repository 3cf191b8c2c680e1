import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import type { Config, ConfigInput } from '../../src/config/schema.ts';
import { createDestination } from '../../src/destinations/registry.ts';
import { DISK_FULL_WAIT_MS, QUICK_ATTEMPTS } from '../../src/engine/delivery.ts';
import type { PollOutcome } from '../../src/engine/poll-connection.ts';
import { Worker } from '../../src/engine/worker.ts';
import type { Clock } from '../../src/model/clock.ts';
import { systemClock } from '../../src/model/clock.ts';
import { makeEmail } from '../support/corpus.ts';
import { dovecotAndWorkspace } from '../support/dovecot-and-workspace.ts';
import { imapConnection, openWorkspaceStore, readDelivered, testConfig } from '../support/postroom.ts';
import { type SmallDisk, smallDisk } from '../support/small-disk.ts';

const EMAILS = 5;
/** Each email is larger than what a filled disk leaves free, and much smaller than the disk. */
const EMAIL_BYTES = 200 * 1024;
const DISK_BYTES = 8 * 1024 * 1024;
/** What a "full" disk keeps free for the content files and a destination: less than one email. */
const LEFT_FREE = 32 * 1024;

const { dovecot, ws } = await dovecotAndWorkspace();
const disk = await smallDisk(DISK_BYTES);
const skip = 'skip' in disk ? disk.skip : false;
after(async () => {
  if (!('skip' in disk)) await disk.dispose();
});

async function seenCount(user: string): Promise<number> {
  return (await dovecot.listMessages(user)).filter((m) => m.flags.includes('\\Seen')).length;
}

async function mailbox(name: string) {
  const user = await dovecot.addUser(name, `secret-${name}`);
  await dovecot.deliverMany(
    user.name,
    Array.from({ length: EMAILS }, (_, i) => makeEmail({ subject: `${name} ${i}`, text: `${'x'.repeat(EMAIL_BYTES)}\n` }).raw),
  );
  return user;
}

function failure(outcome: PollOutcome) {
  assert.equal(outcome.status, 'failed', JSON.stringify(outcome));
  return (outcome as Extract<PollOutcome, { status: 'failed' }>).error;
}

/** Real time plus a jump the test makes, for retries due minutes from now. */
function jumpingClock(): Clock & { jump(ms: number): void } {
  let ahead = 0;
  return { now: () => Date.now() + ahead, sleep: systemClock.sleep, jump: (ms) => void (ahead += ms) };
}

/** Every email delivered once: one text part per email, no subject twice. */
async function assertEachOnce(outDir: string, prefix: string): Promise<void> {
  const subjects = (await readDelivered(outDir)).map((d) => d.envelope.email.subject);
  assert.deepEqual(subjects.sort(), Array.from({ length: EMAILS }, (_, i) => `${prefix} ${i}`).sort());
}

function worker(config: Config, opened: Awaited<ReturnType<typeof openWorkspaceStore>>, clock?: Clock) {
  const lines: Array<{ msg: string }> = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string }) });
  return { worker: new Worker({ createDestination, config, opened, log, ...(clock ? { clock } : {}) }), lines };
}

describe('a full disk', { skip }, () => {
  const full = disk as SmallDisk;

  it('under the content files: the poll names the full directory and says nothing was lost, acknowledges nothing, and takes every email once space is back', async () => {
    const user = await mailbox('fullcontent');
    const contentDir = `${full.path}/content`;
    const outDir = `${ws.dir}/out-content`;
    const config = testConfig(ws, [imapConnection(dovecot, user)], {
      contentDir,
      destinations: { out: { type: 'directory', path: outDir } },
    } as Partial<ConfigInput>);
    const opened = await openWorkspaceStore(config);
    const { worker: w } = worker(config, opened);
    try {
      await full.fill(LEFT_FREE);
      const error = failure(await w.poll(config.connections[0]!));
      assert.equal(error.code, 'DISK_FULL');
      assert.equal(
        error.explain(),
        `A disk is full: the content directory ${contentDir} has no space left. Nothing was lost: no email is acknowledged on the server before it is stored, so they stay there and are fetched again on the next poll; free space on ${contentDir}`,
      );
      assert.equal((await opened.store.getConnectionState('inbox'))?.lastPoll?.error, error.explain(), 'status shows the same words');
      assert.equal(await seenCount(user.name), 0, 'no email acknowledged');

      await full.free();
      assert.equal((await w.poll(config.connections[0]!)).status, 'done');
      await w.delivery.drain();
      await assertEachOnce(outDir, 'fullcontent');
      assert.equal(await seenCount(user.name), EMAILS);
    } finally {
      await full.free();
      await w.stop();
      await opened.store.close();
    }
  });

  it('under the SQLite store: the poll names the store and says nothing was lost, acknowledges nothing, and takes every email once space is back', async () => {
    const user = await mailbox('fullstore');
    const storeDir = `${full.path}/store`;
    const outDir = `${ws.dir}/out-store`;
    const config = testConfig(ws, [imapConnection(dovecot, user)], {
      store: storeDir,
      contentDir: `${ws.dir}/content-store`,
      destinations: { out: { type: 'directory', path: outDir } },
    } as Partial<ConfigInput>);
    const opened = await openWorkspaceStore(config);
    const { worker: w } = worker(config, opened);
    try {
      await full.fill(0);
      const error = failure(await w.poll(config.connections[0]!));
      assert.equal(error.code, 'DISK_FULL');
      assert.match(
        error.explain(),
        new RegExp(
          `^A disk is full: the store ${storeDir} has no space left\\. Nothing was lost: no email is acknowledged on the server and no message marked delivered until the store has it; free space on ${storeDir}$`,
        ),
      );
      assert.equal(await seenCount(user.name), 0, 'no email acknowledged');

      await full.free();
      assert.equal((await w.poll(config.connections[0]!)).status, 'done');
      await w.delivery.drain();
      await assertEachOnce(outDir, 'fullstore');
      assert.equal(await seenCount(user.name), EMAILS);
    } finally {
      await full.free();
      await w.stop();
      await opened.store.close();
    }
  });

  it('under a directory destination: deliveries wait without using up their retries, say which directory is full, and all go out once space is back', async () => {
    const user = await mailbox('fulldest');
    const outDir = `${full.path}/out`;
    const config = testConfig(ws, [imapConnection(dovecot, user)], {
      store: `${ws.dir}/store-dest`,
      destinations: { out: { type: 'directory', path: outDir } },
    } as Partial<ConfigInput>);
    const opened = await openWorkspaceStore(config);
    const clock = jumpingClock();
    const { worker: w, lines } = worker(config, opened, clock);
    try {
      assert.equal((await w.poll(config.connections[0]!)).status, 'done');
      assert.equal(await seenCount(user.name), EMAILS, 'intake is not held up by a full destination');
      await full.fill(LEFT_FREE);
      // Far more rounds, and time, than the quick retries would take to reach the dead letters.
      for (let round = 0; round < 2 * QUICK_ATTEMPTS; round += 1) {
        await w.delivery.deliverDue();
        clock.jump(DISK_FULL_WAIT_MS);
      }
      assert.deepEqual(await opened.store.listDeadLetters(), [], 'nothing went to the dead letters');
      assert.equal(await opened.store.outboxDepth('inbox', ['pending']), EMAILS, 'every message waits in the outbox');
      assert.ok(
        lines.some(
          (l) =>
            l.msg ===
            `delivery waits: A disk is full: the directory destination ${outDir} has no space left. Nothing was lost: the pipeline messages wait in the outbox, without using up their retries, and go out once there is room; free space on ${outDir}`,
        ),
        lines.map((l) => l.msg).join('\n'),
      );

      await full.free();
      await w.delivery.drain();
      await assertEachOnce(outDir, 'fulldest');
      assert.equal(await opened.store.outboxDepth('inbox', ['pending']), 0);
    } finally {
      await full.free();
      await w.stop();
      await opened.store.close();
    }
  });
});
