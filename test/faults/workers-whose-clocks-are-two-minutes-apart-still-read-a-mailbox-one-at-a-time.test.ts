/**
 * Two workers on PostgreSQL whose machines' clocks are 4 minutes apart (one 2 minutes behind,
 * one 2 minutes ahead): the one ahead must not take a lease the other still holds, and every
 * email is delivered once. Each worker is a real process whose Date.now() is shifted
 * (test/support/skewed-clock.mjs), as on a server without NTP.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { writeConfigFile } from '../support/cli.ts';
import { makeEmail } from '../support/corpus.ts';
import { dovecotAndWorkspace } from '../support/dovecot-and-workspace.ts';
import { imapConnection, readDelivered } from '../support/postroom.ts';
import { postgresTestStore, type TestStore } from '../support/stores.ts';
import { spawnWorker, type WorkerProcess, waitFor } from '../support/workers.ts';

const SKEW_MS = 2 * 60_000;
/** The lease lasts the polling interval: long enough for the other worker to try while it is held. */
const INTERVAL = '30s';
/** Worker processes on a busy machine: generous, only ever waited out when something is wrong. */
const WAIT_MS = 90_000;
const SKEWED_CLOCK = pathToFileURL(new URL('../support/skewed-clock.mjs', import.meta.url).pathname).href;

const { dovecot, ws } = await dovecotAndWorkspace();
let shared: TestStore;
const workers: WorkerProcess[] = [];
before(async () => {
  shared = await postgresTestStore();
});
after(async () => {
  for (const worker of workers) worker.kill('SIGKILL');
  await shared?.dispose();
});

function skewedWorker(configPath: string, skewMs: number): WorkerProcess {
  const worker = spawnWorker(configPath, ['run'], {
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${SKEWED_CLOCK}`.trim(),
    POSTROOM_TEST_CLOCK_SKEW_MS: String(skewMs),
  });
  workers.push(worker);
  return worker;
}

const pidOf = (holder: string | undefined): number => Number(holder?.split(':').at(-2));

it('a worker whose clock runs 2 minutes ahead does not take the lease of one whose clock runs 2 minutes behind; every email once', {
  timeout: 4 * WAIT_MS,
}, async () => {
  const user = await dovecot.addUser('skew', 'secret-skew');
  const mail = (i: number) => makeEmail({ subject: `skew ${i}`, text: `email ${i}\n` }).raw;
  await dovecot.deliverMany(
    user.name,
    Array.from({ length: 6 }, (_, i) => mail(i)),
  );
  const configPath = await writeConfigFile(ws.dir, {
    store: shared.location,
    destinations: { out: { type: 'directory', path: ws.outDir } },
    connections: [{ ...imapConnection(dovecot, user, { pollingInterval: INTERVAL }), tls: { ca: dovecot.caPath } }],
    api: { enabled: false },
    log: { level: 'info' },
  });

  const behind = skewedWorker(configPath, -SKEW_MS);
  assert.ok(await waitFor(async () => (await readDelivered(ws.outDir)).length >= 6, WAIT_MS), behind.output());
  const held = (await shared.store.listLeases()).find((lease) => lease.connection === 'inbox');
  assert.equal(pidOf(held?.holder), behind.pid, 'the worker behind holds the lease');
  assert.match(behind.output(), /clock is 1[12]\d\.\d s behind the database server's/, 'the worker says its clock is off, and by how much');

  const ahead = skewedWorker(configPath, SKEW_MS);
  assert.ok(await waitFor(() => /clock is 1[12]\d\.\d s ahead of the database server's/.test(ahead.output()), WAIT_MS), ahead.output());
  // Its first poll comes at once after it starts; by its own clock the lease ran out 90 s ago.
  // Watched every 200 ms for 5 s: the lease never passes to it. (The worker behind may take a new
  // grant itself when its own polling interval comes round on a slow machine: that is no steal.)
  const holders = new Set<number>();
  for (const until = Date.now() + 5_000; Date.now() < until; await delay(200)) {
    const sample = (await shared.store.listLeases()).find((l) => l.connection === 'inbox');
    if (sample && sample.expiresAt > Date.now()) holders.add(pidOf(sample.holder));
  }
  assert.deepEqual([...holders], [behind.pid], 'only the worker behind held the live lease; the worker ahead left it alone');

  // The worker behind dies; the one ahead takes over once the lease has run out, by the database's clock.
  behind.kill('SIGKILL');
  await dovecot.deliverMany(
    user.name,
    Array.from({ length: 3 }, (_, i) => mail(6 + i)),
  );
  assert.ok(await waitFor(async () => (await readDelivered(ws.outDir)).length >= 9, WAIT_MS), ahead.output());
  await delay(1_000);
  const subjects = (await readDelivered(ws.outDir)).map((d) => d.envelope.email.subject).sort();
  assert.deepEqual(subjects, Array.from({ length: 9 }, (_, i) => `skew ${i}`).sort(), 'every email once');
  const taken = (await shared.store.listLeases()).find((l) => l.connection === 'inbox');
  assert.equal(pidOf(taken?.holder), ahead.pid);
});
