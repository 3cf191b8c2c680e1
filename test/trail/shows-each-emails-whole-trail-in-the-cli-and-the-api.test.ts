/**
 * "Where did my email go?" end to end: emails picked up from Dovecot by the real worker go to
 * webhooks that accept, fail twice then accept, or refuse with 400, and a filter leaves one out;
 * a dead letter is replayed through the API. `postroom trace` (table, timeline, --json) and
 * `GET /api/emails` show each email's whole trail in the words an operator reads.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConnectionInput } from '../../src/config/schema.ts';
import { createDestination } from '../../src/destinations/registry.ts';
import { Worker } from '../../src/engine/worker.ts';
import { type ApiHarness, AUTH, jumpingClock, MUTATE, startApi } from '../api/api-kit.ts';
import { envelopeOf, startReceiver, type WebhookReceiver } from '../delivery/webhook-receiver.ts';
import { type CliResult, runCli, writeConfigFile } from '../support/cli.ts';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import { imapConnection, openWorkspaceStore, quietLog, testConfig, type Workspace, workspace } from '../support/postroom.ts';

interface EmailView {
  id: string;
  connection: string;
  from: string | null;
  subject: string | null;
  messageId: string | null;
  state: string;
  acknowledgement: string | null;
  acknowledgedAt: string | null;
  filtered?: { condition: string; reason: string };
  messages: number;
}
interface TrailView {
  email: EmailView;
  messages: Array<{ id: string; destination: string; state: string; attempts: number; contentKeptUntil: string | null }>;
  attempts: Array<{ messageId: string; outcome: string; detail: string | null }>;
  timeline: Array<{ at: string; event: string; detail: string | null; destination?: string; messageId?: string }>;
}

function plainEmail(from: string, subject: string): string {
  return [
    `From: ${from}`,
    'To: intake@example.com',
    `Subject: ${subject}`,
    `Message-ID: <${subject.replace(/\W+/g, '-')}@trail.example>`,
    'Date: Tue, 17 Nov 2026 09:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    `This is ${subject}.`,
    '',
  ].join('\r\n');
}

const events = (trail: TrailView) => trail.timeline.map((entry) => entry.event);
const KEEP_CONTENT = { keepDeliveredContent: '1h' };

describe('the email trail of a delivered, a retried, a dead, a filtered and a replayed email', () => {
  let dovecot: Dovecot;
  let ws: Workspace;
  let accepting: WebhookReceiver;
  let flaky: WebhookReceiver;
  let refusing: WebhookReceiver;
  let connections: ConnectionInput[];
  let configPath: string;
  let api: ApiHarness;
  let destinations: Record<string, { type: 'webhook'; url: string }>;
  /** `postroom trace --state retrying` between the first failed attempt and the retries. */
  let whileRetrying: CliResult;

  const trace = (...args: string[]): Promise<CliResult> => runCli(['--config', configPath, 'trace', ...args]);
  async function traceJson<T>(...args: string[]): Promise<T> {
    const result = await trace(...args, '--json');
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as T;
  }
  async function apiTrail(id: string): Promise<TrailView> {
    const response = await api.app.inject({ url: `/api/emails/${id}`, headers: AUTH });
    assert.equal(response.statusCode, 200, response.body);
    return response.json() as TrailView;
  }
  async function idOf(subject: string): Promise<string> {
    const response = await api.app.inject({ url: `/api/emails?subject=${encodeURIComponent(subject)}`, headers: AUTH });
    const { emails } = response.json() as { emails: EmailView[] };
    assert.equal(emails.length, 1, `one email is called "${subject}"`);
    return emails[0]!.id;
  }

  before(async () => {
    dovecot = await startDovecot();
    ws = await workspace();
    [accepting, flaky, refusing] = await Promise.all([startReceiver(), startReceiver(), startReceiver()]);
    flaky.script({ status: 503, body: 'down for maintenance' }, { status: 503 });
    refusing.otherwise({ status: 400, body: '{"error":"unknown customer"}' });
    destinations = {
      accepting: { type: 'webhook', url: accepting.url },
      flaky: { type: 'webhook', url: flaky.url },
      refusing: { type: 'webhook', url: refusing.url },
    };
    const [orders, invoices, returns, news] = await Promise.all(
      ['trail-orders', 'trail-invoices', 'trail-returns', 'trail-news'].map((name) => dovecot.addUser(name, `pw-${name}-9d2`)),
    );
    connections = [
      imapConnection(dovecot, orders!, { name: 'orders', destination: 'accepting' }),
      imapConnection(dovecot, invoices!, { name: 'invoices', destination: 'flaky' }),
      imapConnection(dovecot, returns!, { name: 'returns', destination: 'refusing' }),
      // Judged on its headers, so its trail knows sender and subject: one the server's search
      // leaves out has neither (test/filter/pre-selects-on-the-server-...).
      imapConnection(dovecot, news!, { name: 'news', destination: 'accepting', filter: { from: ['*@supplier.example'] }, filterOnServer: false }),
    ];
    await dovecot.deliver(orders!.name, plainEmail('Orders <orders@supplier.example>', 'Order 1001 accepted'));
    await dovecot.deliver(invoices!.name, plainEmail('Billing <billing@supplier.example>', 'Invoice 4711 retried'));
    await dovecot.deliver(returns!.name, plainEmail('Returns <returns@supplier.example>', 'Return 77 refused'));
    await dovecot.deliver(news!.name, plainEmail('Deals <deals@shop.example>', 'November deals'));

    // The worker polls each mailbox once and delivers; its clock jumps past the quick retries.
    // Delivered content is kept an hour, so a delivered message can be sent again (the last case).
    const config = testConfig(ws, connections, { destinations, outbox: KEEP_CONTENT });
    const opened = await openWorkspaceStore(config);
    const clock = jumpingClock();
    const worker = new Worker({ createDestination, config, opened, log: quietLog, clock });
    try {
      await worker.runOnce();
      configPath = await writeConfigFile(ws.dir, { store: ws.dataDir, destinations, connections, outbox: KEEP_CONTENT });
      whileRetrying = await trace('--state', 'retrying');
      for (let round = 0; round < 6 && flaky.requests.length < 3; round++) {
        clock.jump(5_000);
        await worker.delivery.drain();
      }
    } finally {
      await worker.stop();
      await opened.store.close();
    }
    assert.equal(flaky.requests.length, 3, 'the flaky webhook was tried three times');

    // The service's API over the same store; its worker replays, but polls nothing.
    api = await startApi(ws, {
      worker: true,
      connections: connections.map((connection) => ({ ...connection, enabled: false })),
      extra: { destinations, outbox: KEEP_CONTENT },
    });
  });
  after(async () => {
    await api?.close();
    await Promise.all([accepting, flaky, refusing].map((receiver) => receiver?.close()));
    await dovecot?.stop();
    await ws?.dispose();
  });

  it('lists every email in a table and as JSON, newest first, each in its state', async () => {
    const table = await trace();
    assert.equal(table.code, 0, table.stderr);
    const [header, ...rows] = table.stdout.trim().split('\n');
    assert.match(header!, /^ID\s+PICKED UP\s+CONNECTION\s+FROM\s+SUBJECT\s+STATE$/);
    const row = (subject: string) => rows.find((line) => line.includes(subject)) ?? '';
    assert.match(row('Order 1001 accepted'), /\sorders\s+"Orders" <orders@supplier\.example>\s+Order 1001 accepted\s+delivered$/);
    assert.match(row('Invoice 4711 retried'), /\sinvoices\s.*\sdelivered$/);
    assert.match(row('Return 77 refused'), /\sreturns\s.*\sdead$/);
    assert.match(row('November deals'), /\snews\s+deals@shop\.example\s+November deals\s+filtered$/);

    const printed = await traceJson<{ emails: EmailView[]; more: boolean; next: string | null }>();
    const { emails } = printed;
    assert.deepEqual(emails.map((email) => [email.subject, email.state]).sort(), [
      ['Invoice 4711 retried', 'delivered'],
      ['November deals', 'filtered'],
      ['Order 1001 accepted', 'delivered'],
      ['Return 77 refused', 'dead'],
    ]);
    const fromApi = (await api.app.inject({ url: '/api/emails', headers: AUTH })).json() as { emails: EmailView[] };
    assert.deepEqual(fromApi, printed, "the CLI prints the API's JSON");
    assert.deepEqual([printed.more, printed.next], [false, null], 'one page holds them all');
    for (const email of emails) assert.ok(row(email.subject!).startsWith(`${email.id} `), 'each row starts with the id that --email takes');
  });

  it('finds emails by sender, Message-ID, words and state, through the CLI and the API alike', async () => {
    const subjects = async (...args: string[]) => (await traceJson<{ emails: EmailView[] }>(...args)).emails.map((email) => email.subject).sort();
    assert.deepEqual(await subjects('--from', 'shop.example'), ['November deals']);
    assert.deepEqual(await subjects('--message-id', 'Invoice-4711-retried@trail.example'), ['Invoice 4711 retried']);
    assert.deepEqual(await subjects('return', '77'), ['Return 77 refused']);
    assert.deepEqual(await subjects('--state', 'delivered'), ['Invoice 4711 retried', 'Order 1001 accepted']);
    assert.deepEqual(await subjects('--connection', 'news', '--state', 'filtered'), ['November deals']);
    const response = await api.app.inject({ url: '/api/emails?state=dead&from=supplier.example', headers: AUTH });
    assert.deepEqual(
      (response.json() as { emails: EmailView[] }).emails.map((email) => email.subject),
      ['Return 77 refused'],
    );
  });

  it("shows a delivered email picked up, marked read and delivered with the webhook's answer", async () => {
    const id = await idOf('Order 1001 accepted');
    const trail = await traceJson<TrailView>('--email', id);
    assert.deepEqual(trail, await apiTrail(id), "the CLI prints the API's JSON");
    assert.equal(trail.email.acknowledgement, 'marked read');
    assert.deepEqual(events(trail).sort(), ['acknowledged', 'delivered', 'picked up']);
    assert.equal(trail.timeline[0]!.event, 'picked up');
    const delivered = trail.timeline.find((entry) => entry.event === 'delivered')!;
    assert.equal(delivered.destination, 'accepting');
    assert.match(delivered.detail ?? '', /^http:\/\/127\.0\.0\.1:\d+ answered 200$/);
    assert.equal(delivered.messageId, trail.messages[0]!.id);
    assert.doesNotMatch(JSON.stringify(trail), /url-secret|pw-trail/, 'no secret of the webhook URL or the mailbox');

    const text = await trace('--email', id);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /from\s+"Orders" <orders@supplier\.example>/);
    assert.match(text.stdout, /state\s+delivered/);
    assert.match(text.stdout, /acknowledged\s+marked read/);
    assert.match(text.stdout, /delivered\s+accepting: http:\/\/127\.0\.0\.1:\d+ answered 200/);
    assert.match(text.stdout, /body body\.txt -> accepting {2}delivered \S+\n/, 'delivered at once: no failed attempts to tell');
  });

  it("shows a retried email failing twice with the webhook's 503, then delivered, in time order", async () => {
    const trail = await apiTrail(await idOf('Invoice 4711 retried'));
    assert.equal(whileRetrying.code, 0, whileRetrying.stderr);
    assert.match(whileRetrying.stdout, /\sinvoices\s.*Invoice 4711 retried\s+retrying\n/, 'between its attempts it was retrying');
    assert.equal(whileRetrying.stdout.split('\n').filter((line) => / retrying$/.test(line)).length, 1, 'and only it');
    assert.equal(trail.email.state, 'delivered');
    const deliveries = trail.timeline.filter((entry) => entry.destination === 'flaky');
    assert.deepEqual(
      deliveries.map((entry) => entry.event),
      ['failed', 'failed', 'delivered'],
    );
    assert.match(deliveries[0]!.detail ?? '', /answered 503: down for maintenance/);
    assert.match(deliveries[1]!.detail ?? '', /answered 503/);
    assert.match(deliveries[2]!.detail ?? '', /answered 200/);
    const times = trail.timeline.map((entry) => entry.at);
    assert.deepEqual(times, [...times].sort(), 'the timeline is in time order');
    assert.equal(trail.messages[0]?.attempts, 2, 'two failed attempts counted');

    // An id as the only argument shows the trail as --email does.
    const text = await trace(trail.email.id);
    assert.equal(text.code, 0, text.stderr);
    // The flaky webhook's three attempts in order (the acknowledgement may come between them:
    // delivery starts as soon as the email is committed).
    const attemptLines = text.stdout.split('\n').filter((line) => /\s(failed|delivered)\s+flaky: /.test(line));
    assert.equal(attemptLines.length, 3, text.stdout);
    assert.match(attemptLines[0]!, /failed\s+flaky: .*answered 503: down for maintenance$/);
    assert.match(attemptLines[1]!, /failed\s+flaky: .*answered 503$/);
    assert.match(attemptLines[2]!, /delivered\s+flaky: .*answered 200$/);
  });

  it('shows a filtered email left out, with the condition and why, and nothing delivered', async () => {
    const id = await idOf('November deals');
    const trail = await traceJson<TrailView>(id);
    assert.equal(trail.email.state, 'filtered');
    assert.equal(trail.email.filtered?.condition, 'from');
    assert.deepEqual(events(trail), ['left out by the filter'], 'left unread: never acknowledged, never delivered');
    assert.match(trail.timeline[0]!.detail ?? '', /^from: .+/);
    assert.deepEqual(trail.messages, []);
    assert.equal(accepting.requests.length, 1, 'only the order reached the accepting webhook');
  });

  it("shows a dead letter with the webhook's 400, and after a replay through the API who asked and the delivery", async () => {
    const id = await idOf('Return 77 refused');
    const dead = await apiTrail(id);
    assert.equal(dead.email.state, 'dead');
    assert.equal(dead.email.acknowledgement, 'marked read', 'the email is safe in the outbox, so it was acknowledged');
    const letter = dead.timeline.find((entry) => entry.event === 'dead letter');
    assert.match(letter?.detail ?? '', /answered 400: \{"error":"unknown customer"\}/);
    assert.equal(dead.messages[0]?.state, 'dead');
    const deadText = await trace('--email', id);
    assert.match(deadText.stdout, /dead letter\s+refusing: .*answered 400/);
    assert.match(deadText.stdout, /postroom replay <id> delivers a dead letter again/);

    refusing.otherwise({ status: 202 });
    const replay = await api.app.inject({ method: 'POST', url: `/api/dead-letters/${dead.messages[0]!.id}/replay`, headers: MUTATE });
    assert.equal(replay.statusCode, 200, replay.body);

    const replayed = await traceJson<TrailView>('--email', id);
    assert.equal(replayed.email.state, 'delivered');
    assert.deepEqual(
      replayed.timeline.filter((entry) => entry.destination === 'refusing').map((entry) => [entry.event, entry.detail?.replace(/\d+/g, 'N')]),
      [
        ['dead letter', dead.timeline.find((entry) => entry.event === 'dead letter')!.detail!.replace(/\d+/g, 'N')],
        ['replayed', 'by the API'],
        ['delivered', 'http://N.N.N.N:N answered N'],
      ],
    );
    const text = await trace('--email', id);
    assert.match(text.stdout, /replayed\s+refusing: by the API/);
    assert.match(text.stdout, /state\s+delivered/);
  });

  it('says when nothing matches and how to search wider; refuses a bad date naming the form; 404s an unknown id', async () => {
    const none = await trace('--from', 'nobody.example');
    assert.equal(none.code, 1);
    assert.equal(none.stdout, '');
    assert.match(none.stderr, /no email matches --from "nobody\.example"; search wider/);

    const badDate = await trace('--since', 'last tuesday');
    assert.equal(badDate.code, 2);
    assert.match(badDate.stderr, /--since: expected an ISO 8601 date or date-time, e\.g\. 2026-11-17 or 2026-11-17T09:30:00Z/);
    const badApi = await api.app.inject({ url: '/api/emails?until=17.11.2026', headers: AUTH });
    assert.equal(badApi.statusCode, 400);
    assert.deepEqual(
      badApi.json().issues.map((issue: { path: string }) => issue.path),
      ['until'],
    );
    assert.match(badApi.json().message, /until: expected an ISO 8601 date/);
    const badState = await api.app.inject({ url: '/api/emails?state=lost', headers: AUTH });
    assert.equal(badState.statusCode, 400);

    for (const id of ['not-an-id', 'b3JkZXJzCmltYXA6SU5CT1g6MToxOTk5']) {
      const missing = await api.app.inject({ url: `/api/emails/${id}`, headers: AUTH });
      assert.equal(missing.statusCode, 404, id);
      assert.equal(missing.json().error, 'EMAIL_NOT_FOUND');
      const cli = await trace('--email', id);
      assert.equal(cli.code, 1);
      assert.match(cli.stderr, /No email has that id/);
    }
    const unauthorised = await api.app.inject({ url: '/api/emails' });
    assert.equal(unauthorised.statusCode, 401, 'the trail needs the API token');
  });

  it('sends a delivered message again with the same id through the API and the CLI while its content is kept, and says why not after', async () => {
    const id = await idOf('Order 1001 accepted');
    const [message] = (await apiTrail(id)).messages;
    assert.equal(message?.state, 'delivered');
    assert.ok(Date.parse(message.contentKeptUntil ?? '') > Date.now() + 50 * 60_000, 'its content is kept for the hour keepDeliveredContent says');
    const hint = await trace('--email', id);
    assert.match(hint.stdout, /postroom replay <id> sends a delivered one again, with the same id, until /);

    const viaApi = await api.app.inject({ method: 'POST', url: `/api/pipeline-messages/${message.id}/replay`, headers: MUTATE });
    assert.equal(viaApi.statusCode, 200, viaApi.body);
    assert.deepEqual(
      viaApi.json().results.map((result: { outcome: string }) => result.outcome),
      ['delivered'],
    );
    const viaCli = await runCli(['--config', configPath, 'replay', message.id]);
    assert.equal(viaCli.code, 0, viaCli.stderr);
    assert.equal(viaCli.stdout, `${message.id}  delivered\n`);
    assert.deepEqual(
      accepting.requests.map((request) => envelopeOf(request).id),
      [message.id, message.id, message.id],
      'the webhook got it three times under one id, so it can drop the copies it has',
    );
    const trail = await apiTrail(id);
    assert.deepEqual(
      trail.timeline.filter((entry) => entry.destination === 'accepting').map((entry) => [entry.event, entry.event === 'replayed' ? entry.detail : '']),
      [
        ['delivered', ''],
        ['replayed', 'by the API'],
        ['delivered', ''],
        ['replayed', 'by the CLI'],
        ['delivered', ''],
      ],
    );

    // Two hours on, the content's hour is up: the API says why it cannot send it and what to set.
    const later = jumpingClock();
    later.jump(2 * 3_600_000);
    const laterApi = await startApi(ws, {
      clock: later,
      connections: connections.map((c) => ({ ...c, enabled: false })),
      extra: { destinations, outbox: KEEP_CONTENT },
    });
    try {
      const gone = await laterApi.app.inject({ method: 'POST', url: `/api/pipeline-messages/${message.id}/replay`, headers: MUTATE });
      assert.equal(gone.statusCode, 409, gone.body);
      assert.equal(gone.json().error, 'CONTENT_GONE');
      assert.match(gone.json().message, /set outbox\.keepDeliveredContent/);
      const unknown = await laterApi.app.inject({ method: 'POST', url: '/api/pipeline-messages/no-such-id/replay', headers: MUTATE });
      assert.equal(unknown.statusCode, 404);
      assert.equal(unknown.json().error, 'PIPELINE_MESSAGE_NOT_FOUND');
    } finally {
      await laterApi.close();
    }
    assert.equal(accepting.requests.length, 3, 'nothing more was sent');
  });
});
