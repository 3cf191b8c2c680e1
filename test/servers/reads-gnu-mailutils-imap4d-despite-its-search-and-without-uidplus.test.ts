import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import pino from 'pino';
import type { ConnectionInput } from '../../src/config/schema.ts';
import { createDestination } from '../../src/destinations/registry.ts';
import { Worker } from '../../src/engine/worker.ts';
import { makeEmail } from '../support/corpus.ts';
import { filterEmail } from '../support/filter-mailbox.ts';
import { hasImap4d, type MailutilsImap4d, type MailutilsUser, startImap4d } from '../support/mailutils-imap4d.ts';
import { openWorkspaceStore, readDelivered, testConfig, type Workspace, workspace } from '../support/postroom.ts';
import { byLine, startTcpProxy } from '../support/tcp-proxy.ts';

let imap4d: MailutilsImap4d;
before(async () => {
  imap4d = await startImap4d();
});
after(async () => {
  await imap4d?.stop();
});

function connection(user: MailutilsUser, extra: Partial<ConnectionInput> = {}): ConnectionInput {
  return {
    name: 'mailutils',
    hostType: 'imap',
    host: imap4d.host,
    port: imap4d.port,
    useSsl: false,
    username: user.name,
    password: user.password,
    pollingInterval: '60s',
    destination: 'out',
    ...extra,
  } as ConnectionInput;
}

/** Polls until nothing is new, delivers, and says what the log warned about. */
async function drain(user: MailutilsUser, extra: Partial<ConnectionInput> = {}, polls = 2, kept?: Workspace) {
  const ws = kept ?? (await workspace());
  const warnings: string[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push((JSON.parse(line) as { msg: string }).msg) });
  const config = testConfig(ws, [connection(user, extra)]);
  const opened = await openWorkspaceStore(config);
  const worker = new Worker({ createDestination, config, opened, log });
  try {
    const outcomes = [];
    for (let i = 0; i < polls; i++) outcomes.push(await worker.poll(config.connections[0]!));
    await worker.delivery.drain();
    return { outcomes, warnings, delivered: await readDelivered(ws.outDir) };
  } finally {
    await worker.stop();
    await opened.store.close();
    if (!kept) await ws.dispose();
  }
}

const emails = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => makeEmail({ subject: `${prefix} ${i}`, text: `body ${i}` }).raw);

it('is installed (scripts/test.sh installs mailutils-imap4d)', () => {
  assert.ok(hasImap4d());
});

it('delivers every unseen email once though imap4d answers UID SEARCH ... UID 1:* with nothing, and says so once', async () => {
  const user = await imap4d.addUser('searcher', 'pw-searcher');
  await imap4d.deliverMany(user, emails('seen', 1), { seen: true });
  await imap4d.deliverMany(user, emails('unseen', 3));
  const { outcomes, warnings, delivered } = await drain(user);
  assert.ok(outcomes[0]?.status === 'done' && outcomes[0].result.emails === 3, JSON.stringify(outcomes[0]));
  assert.ok(outcomes[1]?.status === 'done' && outcomes[1].result.emails === 0, 'nothing twice');
  assert.deepEqual(delivered.map((d) => d.envelope.email.subject).sort(), ['unseen 0', 'unseen 1', 'unseen 2']);
  assert.deepEqual(
    warnings.filter((w) => /SEARCH/.test(w)),
    [
      `the server's SEARCH found 0 new email(s) but UID FETCH 1:* (UID FLAGS) finds 3 unseen (a server fault: its SEARCH disagrees with its own STATUS count): listing "INBOX" that way instead`,
    ],
  );
  assert.ok(
    (await imap4d.listMessages(user)).every((m) => m.flags.includes('\\Seen')),
    'each is marked seen',
  );
});

it('does not pre-select on a SEARCH found wrong: with a filter every email is judged by Postroom, and the invoice is taken', async () => {
  const user = await imap4d.addUser('prefilter', 'pw-prefilter');
  await imap4d.deliverMany(user, [
    filterEmail('Invoice 1', 'Billing <billing@supplier.example>', { text: 'Invoice attached.' }),
    filterEmail('Newsletter', 'Shop <news@shop.example>', { text: 'Offers.' }),
  ]);
  // Through a proxy that notes each command, to see which searches were sent.
  const proxy = await startTcpProxy({ host: imap4d.host, port: imap4d.port });
  after(() => proxy.close());
  const commands: string[] = [];
  proxy.onClientData = byLine((line) => {
    commands.push(line.toString('latin1').trimEnd());
    return line;
  });
  const { outcomes, warnings, delivered } = await drain(user, { port: proxy.port, filter: { from: ['*@supplier.example'] } });
  assert.ok(outcomes[0]?.status === 'done' && outcomes[0].result.filtered === 1, JSON.stringify(outcomes[0]));
  assert.deepEqual(
    delivered.map((d) => d.envelope.email.subject),
    ['Invoice 1'],
  );
  assert.ok(
    warnings.some((w) => /its SEARCH disagrees with its own STATUS count/.test(w)),
    'the listing fell back to FETCH',
  );
  assert.ok(!commands.some((c) => / UID SEARCH UID /.test(c)), `so no pre-selection was asked of that SEARCH:\n${commands.join('\n')}`);
  assert.deepEqual(
    (await imap4d.listMessages(user)).map((m) => m.flags),
    [['\\Seen'], []],
    'the newsletter is left unread',
  );
});

it('without UIDPLUS, deleteMessages flags its own emails deleted and never expunges what another client flagged', async () => {
  const user = await imap4d.addUser('deleter', 'pw-deleter');
  await imap4d.deliverMany(user, emails('theirs', 1), { seen: true });
  await imap4d.flag(user, '1', ['\\Deleted']);
  await imap4d.deliverMany(user, emails('ours', 2));
  const { outcomes, delivered } = await drain(user, { deleteMessages: true });
  assert.ok(
    outcomes.every((o) => o.status === 'done'),
    JSON.stringify(outcomes),
  );
  assert.equal(delivered.length, 2);
  const left = await imap4d.listMessages(user);
  assert.deepEqual(
    left.map((m) => m.flags),
    [
      ['\\Deleted', '\\Seen'],
      ['\\Deleted', '\\Seen'],
      ['\\Deleted', '\\Seen'],
    ],
    "the other client's email is still there: nothing was expunged",
  );
});

it('without MOVE, moveTo copies and flags the originals deleted, and a missing folder keeps them pending', async () => {
  const user = await imap4d.addUser('mover', 'pw-mover');
  await imap4d.deliverMany(user, emails('move', 2));
  const ws = await workspace();
  after(() => ws.dispose());
  const missing = await drain(user, { moveTo: 'Done' }, 1, ws);
  assert.ok(missing.outcomes[0]?.status === 'failed', JSON.stringify(missing.outcomes[0]));
  assert.equal(missing.outcomes[0].error.code, 'ACK_REFUSED');
  assert.deepEqual(
    (await imap4d.listMessages(user)).map((m) => m.flags),
    [[], []],
    'untouched',
  );
  await imap4d.createFolder(user, 'Done');
  const moved = await drain(user, { moveTo: 'Done' }, 1, ws);
  assert.equal(moved.outcomes[0]?.status, 'done', JSON.stringify(moved.outcomes[0]));
  assert.equal((await imap4d.listMessages(user, 'Done')).length, 2);
  assert.deepEqual(
    (await imap4d.listMessages(user)).map((m) => m.flags),
    [
      ['\\Deleted', '\\Seen'],
      ['\\Deleted', '\\Seen'],
    ],
    'the originals are flagged, not expunged',
  );
  assert.deepEqual(moved.delivered.map((d) => d.envelope.email.subject).sort(), ['move 0', 'move 1'], 'each email delivered once');
});
