/**
 * A real worker (`postroom run --once`) delivering to a Redis stream is SIGKILLed right after a
 * delivery (the XADD has been answered, the outbox does not know yet), then runs again: the
 * outbox delivers those messages a second time, and the stream must still hold every pipeline
 * message exactly once, with its content (inline, or behind the claim check).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { runCli, writeConfigFile } from '../support/cli.ts';
import { makeEmail, pseudoRandomBytes, sha256 } from '../support/corpus.ts';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import { imapConnection, type Workspace, workspace } from '../support/postroom.ts';
import { uniqueName } from './delivery-kit.ts';

const REDIS_URL = 'redis://127.0.0.1:6379';
const EMAILS = 3;

let dovecot: Dovecot;
let ws: Workspace;
let redis: Redis;
const stream = `${uniqueName('postroom-crash-')}:emails`;

before(async () => {
  dovecot = await startDovecot();
  ws = await workspace();
  redis = new Redis(REDIS_URL);
});
after(async () => {
  const keys = await redis.keys(`${stream}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  await dovecot?.stop();
  await ws?.dispose();
});

it('every pipeline message is in the stream once after a SIGKILL between XADD and the outbox update', async () => {
  const user = await dovecot.addUser('redis-crash', 'secret-redis-crash');
  const emails = Array.from({ length: EMAILS }, (_, i) =>
    makeEmail({
      subject: `redis crash ${i}`,
      text: `email ${i}\n`,
      // One attachment above maxInlineBytes: it travels as a claim check.
      attachments: [{ filename: `scan-${i}.bin`, content: pseudoRandomBytes(i === 0 ? 40_000 : 2_000, `redis-${i}`), contentType: 'application/octet-stream' }],
    }),
  );
  await dovecot.deliverMany(
    user.name,
    emails.map((e) => e.raw),
  );
  const configPath = await writeConfigFile(ws.dir, {
    store: ws.dataDir,
    destinations: { streams: { type: 'redis', url: REDIS_URL, stream, maxInlineBytes: 16_384 } },
    connections: [imapConnection(dovecot, user, { destination: 'streams' })],
    log: { level: 'warn' },
  });
  const args = ['run', '--once', '--config', configPath];

  // Killed after the 4th delivery of 6: some entries are in the stream, the outbox counts none delivered.
  const crashed = await runCli(args, { env: { POSTROOM_FAULT: 'during-delivery:4' }, timeoutMs: 90_000 });
  assert.equal(crashed.signal, 'SIGKILL', `the worker killed itself after a delivery\n${crashed.stderr}`);
  const before = await redis.xlen(stream);
  assert.ok(before >= 4, `entries the outbox does not know about are in the stream (${before})`);

  // What time would do before a restarted worker takes over: the dead worker's lease and claims run out.
  const database = new Database(join(ws.dataDir, 'postroom.sqlite'));
  try {
    assert.ok(
      (database.prepare("select count(*) as n from outbox where state = 'pending'").get() as { n: number }).n >= 4,
      'the outbox still has them pending',
    );
    database.prepare('update leases set expires_at = 0').run();
    database.prepare('update outbox set claimed_by = null, claimed_until = null').run();
  } finally {
    database.close();
  }
  const rerun = await runCli(args, { timeoutMs: 90_000 });
  assert.equal(rerun.code, 0, `the second run succeeds\n${rerun.stdout}\n${rerun.stderr}`);

  const entries = (await redis.xrangeBuffer(stream, '-', '+')) as unknown as Array<[string, Buffer[]]>;
  const byId = new Map<string, Map<string, Buffer>>();
  for (const [, flat] of entries) {
    const fields = new Map<string, Buffer>();
    for (let i = 0; i < flat.length; i += 2) fields.set(flat[i]!.toString(), flat[i + 1]!);
    assert.ok(!byId.has(fields.get('id')!.toString()), `${fields.get('id')} is in the stream once`);
    byId.set(fields.get('id')!.toString(), fields);
  }
  const expected = emails.flatMap((e) => e.expected.parts);
  assert.equal(entries.length, expected.length, 'one entry per pipeline message, none twice, none missing');
  const hashes = await Promise.all(
    [...byId.values()].map(async (fields) => {
      const key = fields.get('content-key')?.toString();
      return sha256(key ? (await redis.getBuffer(key))! : fields.get('content')!);
    }),
  );
  assert.deepEqual(hashes.sort(), expected.map((p) => p.sha256).sort(), 'each part byte-exact, inline or claim-checked');
  assert.ok(
    [...byId.values()].some((fields) => fields.has('content-key')),
    'the large attachment went by claim check',
  );
});
