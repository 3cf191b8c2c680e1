import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import pino from 'pino';
import type { ConfigInput } from '../../src/config/schema.ts';
import { createDestination } from '../../src/destinations/registry.ts';
import { Worker } from '../../src/engine/worker.ts';
import { type Clock, systemClock } from '../../src/model/clock.ts';
import { makeEmail } from '../support/corpus.ts';
import { dovecotAndWorkspace } from '../support/dovecot-and-workspace.ts';
import { imapConnection, openWorkspaceStore, readDelivered, testConfig } from '../support/postroom.ts';
import { waitFor } from '../support/wait-for.ts';

const EMAILS = 6;
const MAX_PENDING = 4;
/** The other connection's emails: fewer than maxPending, so only a's full outbox could pause it. */
const OTHER_EMAILS = MAX_PENDING - 1;
const DAY_MS = 24 * 60 * 60 * 1000;
/** The default schedule: quick retries after 1, 2, 4 and 8 s, then dead letters after 1 m, 5 m, 30 m, 2 h and 12 h. */
const EXPECTED_GAPS = [1_000, 2_000, 4_000, 8_000, 60_000, 300_000, 1_800_000, 7_200_000, 43_200_000];
const WAIT_MS = 30_000;

const { dovecot, ws } = await dovecotAndWorkspace();

/** Real time plus the jumps the test makes. */
function jumpingClock(): Clock & { jump(ms: number): void } {
  let ahead = 0;
  return { now: () => Date.now() + ahead, sleep: systemClock.sleep, jump: (ms) => void (ahead += ms) };
}

describe('a destination down for a day', () => {
  it('keeps its messages in the outbox on the retry schedule, pauses only its own connection at outbox.maxPending, and delivers everything once after a replay', {
    timeout: 120_000,
  }, async () => {
    const users = { a: await dovecot.addUser('downday', 'secret-downday'), b: await dovecot.addUser('upday', 'secret-upday') };
    for (const [name, user] of Object.entries(users)) {
      await dovecot.deliverMany(
        user.name,
        Array.from({ length: name === 'a' ? EMAILS : OTHER_EMAILS }, (_, i) => makeEmail({ subject: `${name} ${i}`, text: `email ${i}\n` }).raw),
      );
    }
    // The "down" destination's directory cannot be made while a plain file sits where its parent should be.
    const blocker = join(ws.dir, 'blocked');
    await writeFile(blocker, 'not a directory');
    const downDir = join(blocker, 'out');
    const upDir = join(ws.dir, 'up');
    const config = testConfig(
      ws,
      [imapConnection(dovecot, users.a, { name: 'a', destination: 'down' }), imapConnection(dovecot, users.b, { name: 'b', destination: 'up' })],
      {
        destinations: { down: { type: 'directory', path: downDir }, up: { type: 'directory', path: upDir } },
        outbox: { maxPending: MAX_PENDING },
      } as Partial<ConfigInput>,
    );
    const opened = await openWorkspaceStore(config);
    const clock = jumpingClock();
    const worker = new Worker({ createDestination, config, opened, log: pino({ level: 'silent' }), clock });
    const rows = () => {
      const db = new Database(join(ws.dataDir, 'postroom.sqlite'), { readonly: true });
      try {
        return db.prepare("select id, state, attempts, next_attempt_at as next from outbox where connection = 'a' order by id").all() as Array<{
          id: string;
          state: string;
          attempts: number;
          next: number | null;
        }>;
      } finally {
        db.close();
      }
    };
    try {
      const [a, b] = config.connections as [(typeof config.connections)[0], (typeof config.connections)[0]];
      let aDone = false;
      const pollA = worker.poll(a).finally(() => {
        aDone = true;
      });
      await waitFor('connection a to fill its outbox', async () => (await opened.store.outboxDepth('a', ['pending', 'dead'])) === MAX_PENDING, WAIT_MS, 25);
      assert.equal((await worker.poll(b)).status, 'done', 'the other connection is not held up');

      // A day goes by, one delivery round at each due time.
      const gaps = new Map<string, number[]>();
      let elapsed = 0;
      const attempts = new Map<string, number>();
      for (let round = 0; round < 10 * EXPECTED_GAPS.length; round += 1) {
        const before = clock.now();
        await worker.delivery.deliverDue();
        for (const row of rows()) {
          if (row.attempts !== attempts.get(row.id) && row.next !== null) gaps.set(row.id, [...(gaps.get(row.id) ?? []), row.next - before]);
          attempts.set(row.id, row.attempts);
        }
        const next = Math.min(...rows().map((row) => row.next ?? Number.POSITIVE_INFINITY));
        if (!Number.isFinite(next)) break;
        const jump = next - clock.now() + 1;
        clock.jump(jump);
        elapsed += jump;
      }
      clock.jump(Math.max(0, DAY_MS - elapsed));
      assert.equal((await worker.delivery.deliverDue()).retried, 0, 'after the schedule, only a replay sends them');

      const down = rows();
      assert.equal(down.length, MAX_PENDING, 'nothing dropped, and intake stopped at maxPending');
      for (const row of down) {
        assert.equal(row.state, 'dead');
        assert.equal(row.attempts, EXPECTED_GAPS.length + 1);
        assert.equal(row.next, null);
        // Each gap to within the time a round takes.
        const seen = gaps.get(row.id)!;
        assert.equal(seen.length, EXPECTED_GAPS.length);
        for (const [i, gap] of seen.entries()) assert.ok(gap >= EXPECTED_GAPS[i]! && gap < EXPECTED_GAPS[i]! + 5_000, `gap ${i}: ${seen.join(', ')}`);
      }
      assert.equal(aDone, false, 'connection a is still paused');
      // (the taken ones are flagged \Seen when the run ends; the ones not taken stay unread on the server)
      assert.ok((await dovecot.listMessages(users.a.name)).filter((m) => m.flags.includes('\\Seen')).length <= MAX_PENDING, 'the rest wait on the server');
      assert.equal((await readDelivered(upDir)).length, OTHER_EMAILS, 'the other connection delivered everything meanwhile');

      // The destination is back: a replay sends the dead letters, intake resumes, everything goes out once.
      await rm(blocker);
      assert.equal(await opened.store.replayDeadLetters('all', clock.now()), MAX_PENDING);
      await worker.delivery.drain();
      await waitFor('connection a to resume', () => aDone, WAIT_MS, 25);
      assert.equal((await pollA).status, 'done');
      await worker.delivery.drain();
      const subjects = (await readDelivered(downDir)).map((d) => d.envelope.email.subject).sort();
      assert.deepEqual(subjects, Array.from({ length: EMAILS }, (_, i) => `a ${i}`).sort(), 'every email of a exactly once');
      assert.equal((await dovecot.listMessages(users.a.name)).filter((m) => m.flags.includes('\\Seen')).length, EMAILS);
    } finally {
      await worker.stop();
      await opened.store.close();
    }
  });
});
