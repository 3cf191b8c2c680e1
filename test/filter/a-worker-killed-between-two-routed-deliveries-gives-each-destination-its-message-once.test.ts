/**
 * Routes split one email's pipeline messages between destinations, each with its own outbox row:
 * a worker SIGKILLed between the deliveries to two destinations (the POSTROOM_FAULT hook, as in
 * the crash matrix) leaves one delivered and the other not; the next run delivers what is left,
 * and each destination ends with each of its messages once, under its one id.
 */
import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import Database from 'better-sqlite3';
import type { ConnectionInput } from '../../src/config/schema.ts';
import { runCli, writeConfigFile } from '../support/cli.ts';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import { INVOICE_RULES, MAILBOX } from '../support/filter-mailbox.ts';
import { imapConnection, readDelivered, type Workspace, workspace } from '../support/postroom.ts';

const RUN_TIMEOUT_MS = 90_000;
let dovecot: Dovecot;
let ws: Workspace;
before(async () => {
  dovecot = await startDovecot();
  ws = await workspace();
});
after(async () => {
  await dovecot?.stop();
  await ws?.dispose();
});

function store<T>(sql: string, write = false): T[] {
  const database = new Database(join(ws.dataDir, 'postroom.sqlite'), { readonly: !write });
  try {
    if (!write) return database.prepare(sql).all() as T[];
    database.prepare(sql).run();
    return [];
  } finally {
    database.close();
  }
}

it('a SIGKILL between the deliveries to two destinations gives each destination its message once', async () => {
  const user = await dovecot.addUser('routes-crash', 'pw-routes-crash');
  // Two invoices, each a body (to bodies) and a PDF (to pdfs).
  const invoices = MAILBOX.filter((email) => email.subject === 'Invoice 1001' || email.subject === 'Rechnung 77');
  await dovecot.deliverMany(
    user.name,
    invoices.map((email) => email.raw),
  );
  const connection = imapConnection(dovecot, user, { name: 'invoices', ...INVOICE_RULES } as Partial<ConnectionInput>);
  const configPath = await writeConfigFile(ws.dir, {
    store: ws.dataDir,
    destinations: {
      out: { type: 'directory', path: ws.outDir },
      pdfs: { type: 'directory', path: join(ws.dir, 'pdfs') },
      bodies: { type: 'directory', path: join(ws.dir, 'bodies') },
    },
    connections: [connection],
    log: { level: 'warn' },
  });
  const args = ['run', '--once', '--config', configPath];

  const crashed = await runCli(args, { env: { POSTROOM_FAULT: 'during-delivery:2' }, timeoutMs: RUN_TIMEOUT_MS });
  assert.equal(crashed.signal, 'SIGKILL', `the worker killed itself between two deliveries; exit ${crashed.code}\n${crashed.stderr}`);
  const routed = store<{ id: string; destination: string; state: string }>('select id, destination, state from outbox order by id');
  assert.deepEqual([...new Set(routed.map((row) => row.destination))].sort(), ['bodies', 'pdfs'], 'each part has its own routed outbox row');
  assert.ok(
    routed.some((row) => row.state === 'pending'),
    'the crash left deliveries to make',
  );
  const inodes = new Map<string, number>();
  for (const row of routed.filter((r) => r.state === 'delivered')) inodes.set(row.id, (await stat(join(ws.dir, row.destination, `${row.id}.json`))).ino);

  // The dead worker's lease and delivery claims run out, as they would with time.
  store('update leases set expires_at = 0', true);
  store('update outbox set claimed_by = null, claimed_until = null', true);
  const rerun = await runCli(args, { timeoutMs: RUN_TIMEOUT_MS });
  assert.equal(rerun.code, 0, `the second run succeeds\n${rerun.stderr}`);

  for (const destination of ['pdfs', 'bodies']) {
    const delivered = await readDelivered(join(ws.dir, destination));
    const expected = routed.filter((row) => row.destination === destination).map((row) => row.id);
    assert.deepEqual(delivered.map((d) => d.envelope.id).sort(), [...expected].sort(), `${destination} holds each of its messages once`);
    const files = (await readdir(join(ws.dir, destination))).filter((name) => !name.startsWith('.'));
    assert.equal(files.length, expected.length * 2, `${destination}: one .data and one .json per message, nothing else`);
  }
  assert.deepEqual(await readDelivered(ws.outDir), [], 'nothing reached the fallback destination');
  for (const [id, ino] of inodes) {
    const row = routed.find((r) => r.id === id)!;
    assert.equal((await stat(join(ws.dir, row.destination, `${id}.json`))).ino, ino, 'a message recorded as delivered is not delivered again');
  }
  assert.equal(store<{ n: number }>("select count(*) as n from outbox where state <> 'delivered'")[0]!.n, 0);
});
