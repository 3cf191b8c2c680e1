import assert from 'node:assert/strict';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { after, before, it } from 'node:test';
import pg from 'pg';
import { writeConfigFile } from '../support/cli.ts';
import { makeEmail } from '../support/corpus.ts';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import { readDelivered, type Workspace, workspace } from '../support/postroom.ts';
import { POSTGRES_BASE_URL, postgresTestStore, type TestStore } from '../support/stores.ts';
import { spawnWorker, type WorkerProcess, waitFor } from '../support/workers.ts';

const MAILBOXES = 30;
const PER_MAILBOX = 100;
const BEFORE_START = 60;

let dovecot: Dovecot;
let ws: Workspace;
let shared: TestStore;
const workers: WorkerProcess[] = [];

before(async () => {
  dovecot = await startDovecot();
  ws = await workspace();
  shared = await postgresTestStore(); // content in PostgreSQL: nothing shared on disk between workers
});
after(async () => {
  for (const worker of workers) worker.kill('SIGKILL');
  await dovecot?.stop();
  await shared?.dispose();
  await ws?.dispose();
});

/** Emails committed per worker, from the shared poll history. */
async function emailsByHolder(): Promise<Array<{ holder: string; emails: number }>> {
  const schema = new URL(shared.location).searchParams.get('schema')!;
  const client = new pg.Client({ connectionString: POSTGRES_BASE_URL });
  await client.connect();
  try {
    const result = await client.query<{ holder: string; emails: string }>(`select holder, sum(emails) as emails from "${schema}".polls group by holder`);
    return result.rows.map((row) => ({ holder: row.holder, emails: Number(row.emails) }));
  } finally {
    await client.end();
  }
}

const mail = (box: number, i: number) => makeEmail({ subject: `box ${box} email ${i}`, text: `mailbox ${box}, email ${i}` }).raw;

it('delivers every email exactly once across three workers, spreads the work, and takes over a killed worker within a lease period', {
  timeout: 240_000,
}, async () => {
  const connections = [];
  for (let box = 0; box < MAILBOXES; box++) {
    const user = await dovecot.addUser(`box${box}`, `pw-box-${box}`);
    await dovecot.deliverMany(
      user.name,
      Array.from({ length: BEFORE_START }, (_, i) => mail(box, i)),
    );
    connections.push({
      name: `box${box}`,
      hostType: 'imap',
      host: '127.0.0.1',
      port: dovecot.imapPort,
      useSsl: false,
      username: user.name,
      password: user.password,
      tls: { ca: dovecot.caPath },
      pollingInterval: '2s',
    });
  }
  const configPath = await writeConfigFile(ws.dir, {
    store: shared.location,
    destinations: { out: { type: 'directory', path: ws.outDir } },
    connections,
    api: { enabled: false },
    log: { level: 'info' },
  });
  for (let i = 0; i < 3; i++) workers.push(spawnWorker(configPath));

  // Mail keeps arriving while they run, in waves.
  for (let wave = 0; wave < 4; wave++) {
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const from = BEFORE_START + (wave * (PER_MAILBOX - BEFORE_START)) / 4;
    const to = BEFORE_START + ((wave + 1) * (PER_MAILBOX - BEFORE_START)) / 4;
    for (let box = 0; box < MAILBOXES; box++) {
      await dovecot.deliverMany(
        `box${box}`,
        Array.from({ length: to - from }, (_, i) => mail(box, from + i)),
      );
    }
  }

  // Kill one worker mid-run: once it has done some of the work and while it holds a lease.
  const victim = workers[0]!;
  const working = await waitFor(
    async () => {
      const mine = (await emailsByHolder()).find((row) => row.holder.includes(`:${victim.pid}:`));
      const holds = (await shared.store.listLeases()).some((l) => l.holder.includes(`:${victim.pid}:`) && l.expiresAt > Date.now());
      return !!mine && mine.emails > 0 && holds;
    },
    90_000,
    100,
  );
  assert.ok(working, `worker ${victim.pid} worked and took a lease:\n${victim.output().slice(-2000)}`);
  victim.kill('SIGKILL');
  await victim.exited;

  const total = MAILBOXES * PER_MAILBOX;
  const done = await waitFor(async () => (await readdir(ws.outDir).catch(() => [])).filter((n) => n.endsWith('.json')).length >= total, 180_000, 1000);
  if (!done) {
    await mkdir('test-output', { recursive: true });
    for (const worker of workers) await writeFile(`test-output/cluster-worker-${worker.pid}.log`, worker.output());
  }
  assert.ok(
    done,
    `worker logs in test-output/cluster-worker-*.log; all ${total} pipeline messages delivered; got ${(await readdir(ws.outDir).catch(() => [])).filter((n) => n.endsWith('.json')).length}`,
  );
  await new Promise((resolve) => setTimeout(resolve, 3000)); // nothing more may arrive

  const delivered = await readDelivered(ws.outDir);
  const subjects = delivered.map((d) => d.envelope.email.subject);
  assert.equal(delivered.length, total, 'no pipeline message twice, none missing');
  assert.equal(new Set(subjects).size, total, 'every email exactly once');

  for (const survivor of workers.slice(1)) survivor.kill('SIGTERM');
  for (const survivor of workers.slice(1)) assert.equal((await survivor.exited).code, 0, 'SIGTERM stops a worker cleanly');

  const perHolder = await emailsByHolder();
  for (const worker of workers) {
    const mine = perHolder.find((row) => row.holder.includes(`:${worker.pid}:`));
    assert.ok(mine && mine.emails > 0, `worker ${worker.pid} picked up some of the emails: ${JSON.stringify(perHolder)}`);
  }

  const states = await shared.store.listConnectionStates();
  assert.equal(states.length, MAILBOXES);
  const leases = await shared.store.listLeases();
  assert.ok(
    leases.every((l) => l.expiresAt <= Date.now() + 2000),
    'stopped workers released their leases',
  );
  for (let box = 0; box < MAILBOXES; box++) {
    const onServer = await dovecot.listMessages(`box${box}`);
    assert.equal(onServer.length, PER_MAILBOX);
    assert.ok(
      onServer.every((m) => m.flags.includes('\\Seen')),
      `box${box}: every email acknowledged`,
    );
  }
});
