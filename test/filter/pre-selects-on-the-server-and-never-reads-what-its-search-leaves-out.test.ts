/**
 * Server pre-selection (issue 20, `filterOnServer`, on by default for IMAP with `filtered: leave`):
 * the conditions IMAP SEARCH can pre-select (here the sender and maxSize; the subject has a
 * /regex/ and is not pushed) are searched on the server, and an email the search does not find is
 * recorded as filtered with the server's reason without a single FETCH naming it; what the search
 * finds is judged by Postroom again, so a sender differing only in case is taken and one that only
 * contains the searched text is left out on its headers. Every command the CLI sends goes through
 * a proxy on Dovecot's plain port, which is how the test knows what was fetched. Preview says
 * what run --once then does; a second run fetches nothing; rescan judges the server's misses
 * again on their own headers; a refused search and `filterOnServer: false` judge everything as before;
 * and a server whose search misses (the proxy answers it with nothing) costs only emails left
 * unread, which preview flags and `filterOnServer: false` with a rescan takes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConnectionInput } from '../../src/config/schema.ts';
import type { PreviewRow } from '../../src/engine/preview-connection.ts';
import { runCli, writeConfigFile } from '../support/cli.ts';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import { filterEmail, INVOICE_RULES, MAILBOX } from '../support/filter-mailbox.ts';
import { pseudoRandomBytes } from '../support/mime-writer.ts';
import { imapConnection, openWorkspaceStore, readDelivered, testConfig, type Workspace, workspace } from '../support/postroom.ts';
import { byLine, startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';

const PDF = (seed: string): Buffer => Buffer.concat([Buffer.from('%PDF-1.7\n'), pseudoRandomBytes(3000, seed)]);

/** The shared mailbox, and two senders that only the server's case-folding substring search confuses. */
const EMAILS = [
  ...MAILBOX.map((email) => ({ subject: email.subject, raw: email.raw })),
  {
    subject: 'Invoice 1005',
    raw: filterEmail('Invoice 1005', 'Billing <BILLING@SUPPLIER.EXAMPLE>', {
      text: 'Upper case sender.',
      attachments: [{ filename: 'invoice-1005.pdf', contentType: 'application/pdf', content: PDF('1005') }],
    }),
  },
  {
    subject: 'Invoice 1006',
    raw: filterEmail('Invoice 1006', 'Billing <billing@supplier.example.evil>', {
      text: 'Contains the searched text, does not match the glob.',
      attachments: [{ filename: 'invoice-1006.pdf', contentType: 'application/pdf', content: PDF('1006') }],
    }),
  },
];

/** Each email's verdict with pre-selection on: [subject, taken or the deciding condition, decided on]. */
const EXPECTED: Array<[string, string, PreviewRow['decidedOn']]> = [
  ['Invoice 1001', 'taken', 'content'],
  ['Newsletter July', 'from', 'server'],
  ['Invoice 1002', 'taken', 'content'],
  ['Automatic reply: Invoice 1001', 'autoReplies', 'headers'],
  ['Invoice 1003', 'maxSize', 'server'],
  ['Undelivered Mail Returned to Sender', 'bounces', 'headers'],
  ['Invoice 1004', 'attachmentTypes', 'content'],
  ['Rechnung 77', 'taken', 'content'],
  ['Invoice 1005', 'taken', 'content'],
  ['Invoice 1006', 'from', 'headers'],
];
const TAKEN = EXPECTED.filter(([, verdict]) => verdict === 'taken').map(([subject]) => subject);
/** UIDs follow delivery order from 1. */
const uidOf = (subject: string): number => EMAILS.findIndex((email) => email.subject === subject) + 1;
const SERVER_LEFT = EXPECTED.filter(([, , on]) => on === 'server').map(([subject]) => uidOf(subject));

/** The UIDs a sequence set names (`1:4,6`; `*` as `max`). */
function expand(set: string, max = 1_000): number[] {
  return set.split(',').flatMap((part) => {
    const [a, b = a] = part.split(':').map((n) => (n === '*' ? max : Number(n)));
    const [low, high] = [Math.min(a!, b!), Math.max(a!, b!)];
    return Array.from({ length: high - low + 1 }, (_, i) => low + i);
  });
}

interface Fetch {
  uids: number[];
  items: string;
}

let dovecot: Dovecot;
let proxy: TcpProxy;
const workspaces: Workspace[] = [];
/** Every command line a client sent through the proxy, in order. */
let commands: string[] = [];
/** When set, answers a matching command with NO instead of passing it to Dovecot. */
let refuse: RegExp | undefined;
/** When set, answers a matching SEARCH with no UID at all, as a server whose search is wrong would. */
let findNothing: RegExp | undefined;

before(async () => {
  dovecot = await startDovecot();
  proxy = await startTcpProxy({ host: '127.0.0.1', port: dovecot.imapPort });
  // Plain IMAP so the proxy reads the commands: STARTTLS is hidden from the client (imapflow upgrades when offered).
  proxy.onServerData = byLine((line) => {
    const text = line.toString('latin1');
    return /^(\* |\S+ OK )/.test(text) && text.includes('CAPABILITY') ? Buffer.from(text.replace(/ STARTTLS/g, ''), 'latin1') : line;
  });
  proxy.onClientData = byLine((line, connection) => {
    const text = line.toString('latin1');
    commands.push(text.trimEnd());
    if (refuse?.test(text)) {
      connection.inject(`${text.split(' ')[0]} NO [BADCHARSET] Search refused by the test\r\n`);
      return null;
    }
    if (findNothing?.test(text)) {
      connection.inject(`* SEARCH\r\n${text.split(' ')[0]} OK Search completed (by the test)\r\n`);
      return null;
    }
    return line;
  });
});
after(async () => {
  await proxy?.close();
  await dovecot?.stop();
  await Promise.all(workspaces.map((ws) => ws.dispose()));
});

/** The UID FETCH commands sent since the last reset. */
function fetches(): Fetch[] {
  return commands.flatMap((command) => {
    const match = /^\S+ UID FETCH (\S+) \((.*)\)$/.exec(command);
    return match ? [{ uids: expand(match[1]!), items: match[2]! }] : [];
  });
}

async function mailboxFor(name: string, extra: Partial<ConnectionInput> = {}) {
  const user = await dovecot.addUser(name, `pw-${name}`);
  await dovecot.deliverMany(
    user.name,
    EMAILS.map((email) => email.raw),
  );
  const ws = await workspace();
  workspaces.push(ws);
  const connection = imapConnection(dovecot, user, { name: 'invoices', port: proxy.port, useSsl: false, filter: INVOICE_RULES.filter, ...extra });
  const config = {
    store: ws.dataDir,
    destinations: { out: { type: 'directory', path: ws.outDir } },
    connections: [connection],
    log: { level: 'warn' },
  };
  const path = await writeConfigFile(ws.dir, config);
  const cli = async (...args: string[]) => {
    const result = await runCli(['--config', path, ...args]);
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    return result;
  };
  /** The ledger's verdict on each left-out email, by subject: [condition, reason]. */
  const ledger = async (): Promise<Map<string, [string, string]>> => {
    const uidValidity = (await readDelivered(ws.outDir))[0]!.envelope.source.uidValidity;
    const opened = await openWorkspaceStore(testConfig(ws, [connection]));
    try {
      const keys = EMAILS.map((_, index) => `imap:INBOX:${uidValidity}:${index + 1}`);
      const entries = await opened.store.findLedgerEntries('invoices', keys);
      const verdicts = new Map<string, [string, string]>();
      keys.forEach((key, index) => {
        const filtered = entries.get(key)?.filtered;
        if (filtered) verdicts.set(EMAILS[index]!.subject, [filtered.condition, filtered.reason]);
      });
      return verdicts;
    } finally {
      await opened.store.close();
    }
  };
  const delivered = async () => [...new Set((await readDelivered(ws.outDir)).map((d) => d.envelope.email.subject ?? ''))].sort();
  return { user, ws, config, connection, cli, ledger, delivered };
}

describe('pre-selection on the server', () => {
  it('never reads what the search leaves out, re-checks what it finds, and preview says what run --once then does', async () => {
    const box = await mailboxFor('preselect');

    const preview = await box.cli('preview', 'invoices', '--json');
    const rows = JSON.parse(preview.stdout) as PreviewRow[];
    assert.deepEqual(
      rows.map((row) => [row.subject, row.verdict === 'taken' ? 'taken' : row.condition, row.decidedOn]),
      EXPECTED,
      'each email with its verdict, the deciding condition and where it was decided',
    );
    const newsletter = rows.find((row) => row.subject === 'Newsletter July')!;
    assert.equal(newsletter.from, 'news@shop.example', 'preview reads the headers of what the server left out, to show them');
    assert.match(newsletter.reason, /^the server's SEARCH FROM "@supplier\.example" found no match for "\*@supplier\.example" \(its headers were not read\)$/);
    assert.match(rows.find((row) => row.subject === 'Invoice 1003')!.reason, /^the server's SEARCH SMALLER 200001 found no match for maxSize 200000 bytes/);
    assert.ok(
      rows.every((row) => row.warning === undefined),
      "Dovecot's search is right: no warning",
    );
    const text = await box.cli('preview', 'invoices');
    assert.match(
      text.stdout,
      /left {3}Newsletter July — news@shop\.example, \d+ bytes\n {7}from: the server's SEARCH FROM .* \(decided by the server's search\)/,
    );

    commands = [];
    await box.cli('run', '--once');
    assert.deepEqual(await box.delivered(), [...TAKEN].sort(), 'run --once takes what preview said');
    assert.ok(
      commands.some((c) => /UID SEARCH UID 1:10 FROM "?@supplier\.example"?$/.test(c)),
      `the sender was searched on the server:\n${commands.join('\n')}`,
    );
    assert.ok(commands.some((c) => /UID SEARCH UID 1:10 SMALLER 200001$/.test(c)));
    assert.ok(!commands.some((c) => /SEARCH.* SUBJECT /.test(c)), 'the subject, with a /regex/ among its patterns, was not');
    const run = fetches();
    const headerFetches = run.filter((f) => f.items.includes('BODY.PEEK[HEADER]'));
    assert.deepEqual(
      headerFetches.flatMap((f) => f.uids).sort((a, b) => a - b),
      EMAILS.map((_, i) => i + 1).filter((uid) => !SERVER_LEFT.includes(uid)),
      'the headers of every other email were read in the listing',
    );
    for (const uid of SERVER_LEFT) {
      assert.ok(!run.some((f) => f.uids.includes(uid)), `no FETCH names UID ${uid}, which the server's search left out:\n${commands.join('\n')}`);
      assert.ok(!commands.some((c) => / UID STORE /.test(c) && expand(c.split(' ')[3]!).includes(uid)), `nothing was stored on UID ${uid}`);
    }

    const messages = await dovecot.listMessages(box.user.name);
    assert.deepEqual(
      messages.filter((m) => !m.flags.includes('\\Seen')).map((m) => m.uid),
      EXPECTED.map(([subject, verdict]) => (verdict === 'taken' ? 0 : uidOf(subject))).filter((uid) => uid > 0),
      'every email left out, by the server or by Postroom, is still unseen',
    );
    const ledger = await box.ledger();
    assert.deepEqual(
      [...ledger].map(([subject, [condition]]) => [subject, condition]),
      EXPECTED.filter(([, verdict]) => verdict !== 'taken').map(([subject, verdict]) => [subject, verdict]),
      'each is in the ledger as filtered, with the condition preview named',
    );
    assert.equal(ledger.get('Newsletter July')![1], newsletter.reason, "and the server's reason");
    assert.match(
      ledger.get('Invoice 1006')![1],
      /sender billing@supplier\.example\.evil matches none of "\*@supplier\.example"/,
      'what the server found was judged again',
    );
    const trace = JSON.parse((await box.cli('trace', '--connection', 'invoices', '--state', 'filtered', '--json')).stdout) as {
      emails: Array<{ sourceKey: string; from: string | null; subject: string | null; filtered?: { condition: string; reason: string } }>;
    };
    assert.deepEqual(
      trace.emails
        .filter((email) => /^the server's SEARCH/.test(email.filtered?.reason ?? ''))
        .map((email) => [Number(email.sourceKey.split(':').pop()), email.filtered?.condition, email.from, email.subject])
        .sort(),
      [
        [SERVER_LEFT[0], 'from', null, null],
        [SERVER_LEFT[1], 'maxSize', null, null],
      ],
      "the trail has them filtered with the server's reason, and knows neither sender nor subject: nothing of them was read",
    );
    const status = await box.cli('status');
    assert.match(status.stdout, /filtered: {4}6 email\(s\) left out \(.*from 2.*\)/, 'status counts them with the rest');
    assert.match(status.stdout, /maxSize 1/);

    commands = [];
    await box.cli('run', '--once');
    assert.deepEqual(await box.delivered(), [...TAKEN].sort(), 'the second run emits nothing');
    assert.deepEqual(
      fetches().filter((f) => /BODY|ENVELOPE|HEADER/.test(f.items)),
      [],
      `and reads no email's headers or content:\n${commands.join('\n')}`,
    );
    assert.deepEqual(JSON.parse((await box.cli('preview', 'invoices', '--json')).stdout), [], 'nothing is left for the next poll');

    // rescan: the server's misses are judged again on their own headers, not on the server's search again.
    await box.cli('rescan', 'invoices');
    commands = [];
    await box.cli('run', '--once');
    assert.ok(!commands.some((c) => /UID SEARCH UID /.test(c)), `the poll after a rescan does not pre-select:\n${commands.join('\n')}`);
    assert.deepEqual(
      fetches()
        .filter((f) => f.items.includes('BODY.PEEK[HEADER]'))
        .flatMap((f) => f.uids)
        .filter((uid) => SERVER_LEFT.includes(uid)),
      SERVER_LEFT,
      'it reads their headers',
    );
    const rescanned = await box.ledger();
    assert.match(rescanned.get('Newsletter July')![1], /^sender news@shop\.example matches none of/);
    assert.match(rescanned.get('Invoice 1003')![1], /bytes, over maxSize \(200000 bytes\)$/);
    assert.deepEqual(await box.delivered(), [...TAKEN].sort(), 'nothing emitted twice');
    assert.equal((await dovecot.listMessages(box.user.name)).filter((m) => !m.flags.includes('\\Seen')).length, EXPECTED.length - TAKEN.length);

    commands = [];
    await box.cli('run', '--once');
    assert.ok(!commands.some((c) => /UID SEARCH UID /.test(c)), 'nothing new, nothing searched');
    assert.deepEqual(
      fetches().filter((f) => /BODY/.test(f.items)),
      [],
      'and nothing read',
    );
  });

  it('judges every email as before when the server refuses the search', async () => {
    const box = await mailboxFor('refused');
    refuse = /UID SEARCH UID \S+ FROM /;
    commands = [];
    let run: Awaited<ReturnType<typeof box.cli>>;
    try {
      run = await box.cli('run', '--once');
    } finally {
      refuse = undefined;
    }
    assert.match(run.stderr, /the server refused UID SEARCH FROM \\?"@supplier\.example\\?": judging every new email on its headers instead/);
    assert.deepEqual(await box.delivered(), [...TAKEN].sort());
    assert.ok(
      fetches().some((f) => f.items.includes('BODY.PEEK[HEADER]') && SERVER_LEFT.every((uid) => f.uids.includes(uid))),
      'the headers of all were read',
    );
    assert.match((await box.ledger()).get('Newsletter July')![1], /^sender news@shop\.example matches none of/);
  });

  it('a server whose SEARCH misses: preview warns, the poll only leaves the emails unread, and filterOnServer: false with rescan takes them', async () => {
    const box = await mailboxFor('wrong-search');
    findNothing = /UID SEARCH UID \S+ FROM /;
    try {
      const rows = JSON.parse((await box.cli('preview', 'invoices', '--json')).stdout) as PreviewRow[];
      const missed = rows.filter((row) => row.warning);
      assert.deepEqual(
        missed.map((row) => row.subject),
        [
          'Invoice 1001',
          'Invoice 1002',
          'Automatic reply: Invoice 1001',
          'Invoice 1003',
          'Undelivered Mail Returned to Sender',
          'Invoice 1004',
          'Rechnung 77',
          'Invoice 1005',
        ],
        'every email whose sender the headers show matching is flagged (1003 too: the FROM search decided it, wrongly, before SMALLER could)',
      );
      assert.ok(
        rows.every((row) => row.verdict === 'left' && row.decidedOn === 'server'),
        'all left out by the search, as the poll will leave them (the newsletter and 1006 rightly: their senders do not match)',
      );
      assert.match(
        missed[0]!.warning!,
        /yet its headers meet the from condition: this server's search is wrong here.*set filterOnServer: false .*postroom rescan invoices/,
      );
      const text = await box.cli('preview', 'invoices');
      assert.match(text.stdout, /\n {7}WARNING: the server's SEARCH did not find it/);
      await box.cli('run', '--once');
    } finally {
      findNothing = undefined;
    }
    assert.deepEqual(await box.delivered(), [], 'nothing taken');
    assert.ok(
      (await dovecot.listMessages(box.user.name)).every((m) => !m.flags.includes('\\Seen')),
      'and nothing marked read, moved or deleted: filtered is leave',
    );
    const off = await writeConfigFile(box.ws.dir, { ...box.config, connections: [{ ...box.connection, filterOnServer: false }] }, 'off.yaml');
    for (const args of [
      ['rescan', 'invoices'],
      ['run', '--once'],
    ]) {
      const result = await runCli(['--config', off, ...args]);
      assert.equal(result.code, 0, result.stderr);
    }
    assert.deepEqual(await box.delivered(), [...TAKEN].sort(), 'judged by Postroom, the invoices are taken');
  });

  it('filterOnServer: false searches nothing on the server and judges every email on its headers', async () => {
    const box = await mailboxFor('judged-here', { filterOnServer: false });
    commands = [];
    await box.cli('run', '--once');
    assert.ok(!commands.some((c) => /UID SEARCH UID /.test(c)), `no pre-selection:\n${commands.join('\n')}`);
    assert.deepEqual(await box.delivered(), [...TAKEN].sort(), 'the same emails are taken');
    const ledger = await box.ledger();
    assert.match(ledger.get('Newsletter July')![1], /^sender news@shop\.example matches none of/);
    assert.match(ledger.get('Invoice 1003')![1], /over maxSize/);
    assert.equal(ledger.size, EXPECTED.length - TAKEN.length);
  });
});
