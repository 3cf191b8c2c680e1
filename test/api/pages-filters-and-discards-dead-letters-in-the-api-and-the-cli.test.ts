/**
 * The dead letters an operator pages through, filters and gives up on: emails picked up from
 * Dovecot by the real worker are refused by webhooks (HTTP 400: dead letters at once). The API
 * pages them (X-Total-Count, limit, offset) and filters them by connection and destination, an
 * email's side by side; it replays and discards one, several or a whole email; `postroom
 * dead-letters discard` does the same from the CLI. A discard leaves the dead letters and
 * postroom_dead_letters, says "discarded by the API/CLI" in the email trail, and lets the
 * content and, once nothing else needs it, the raw email go.
 */
import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { parseEmailId } from '../../src/model/email-id.ts';
import { startReceiver, type WebhookReceiver } from '../delivery/webhook-receiver.ts';
import { runCli, writeConfigFile } from '../support/cli.ts';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import { type Workspace, workspace } from '../support/postroom.ts';
import { type ApiHarness, AUTH, MUTATE, refusedByWebhooks, sampleEmail, startApi } from './api-kit.ts';
import { metricValue, parsePrometheus } from './prometheus-text.ts';

interface DeadLetter {
  id: string;
  email: string;
  connection: string;
  destination: string;
  subject: string | null;
  filename: string;
}
interface Timeline {
  timeline: Array<{ event: string; detail: string | null; messageId?: string }>;
  messages: Array<{ id: string; state: string; deliveredAt: string | null }>;
}

describe('dead letters paged, filtered and discarded through the API and the CLI', () => {
  let dovecot: Dovecot;
  let ws: Workspace;
  let refusing: WebhookReceiver;
  let api: ApiHarness;
  let configPath: string;

  const list = async (query = '') => {
    const response = await api.app.inject({ url: `/api/dead-letters${query}`, headers: AUTH });
    assert.equal(response.statusCode, 200, response.body);
    return { items: response.json() as DeadLetter[], total: Number(response.headers['x-total-count']) };
  };
  const post = (url: string, payload?: unknown) =>
    api.app.inject({ method: 'POST', url, headers: payload === undefined ? MUTATE : AUTH, ...(payload === undefined ? {} : { payload: payload as object }) });
  const trail = async (email: string) => (await api.app.inject({ url: `/api/emails/${email}`, headers: AUTH })).json() as Timeline;
  const deadGauge = async (connection: string) =>
    metricValue(parsePrometheus((await api.app.inject({ method: 'GET', url: '/metrics' })).body), 'postroom_dead_letters', connection);

  before(async () => {
    dovecot = await startDovecot();
    ws = await workspace();
    refusing = await startReceiver();
    const [shop, legacy] = await Promise.all([dovecot.addUser('dl-shop', 'pw-dl-shop-4'), dovecot.addUser('dl-legacy', 'pw-dl-legacy-4')]);
    const { connections, destinations } = await refusedByWebhooks(
      ws,
      dovecot,
      refusing,
      { shop, legacy },
      { shop: ['order 1', 'order 2', 'order 3'].map(sampleEmail), legacy: [sampleEmail('old order')] },
    );
    configPath = await writeConfigFile(ws.dir, { store: ws.dataDir, destinations, connections });
    api = await startApi(ws, { worker: true, connections: connections.map((c) => ({ ...c, enabled: false })), extra: { destinations } });
  });
  after(async () => {
    await api?.close();
    await refusing?.close();
    await dovecot?.stop();
    await ws?.dispose();
  });

  it('pages with the total, filters by connection and destination, and keeps an email’s dead letters together', async () => {
    const all = await list();
    assert.equal(all.total, 8, 'four emails, body and attachment each');
    assert.equal(all.items.length, 8, 'no limit: every one, as before');
    const emails = all.items.map((d) => d.email);
    assert.deepEqual(
      emails.filter((email, i) => email !== emails[i - 1]),
      [...new Set(emails)],
      'the dead letters of one email are side by side',
    );
    for (const d of all.items) assert.equal(parseEmailId(d.email)?.connection, d.connection);

    const pages = await Promise.all([0, 3, 6].map((offset) => list(`?limit=3&offset=${offset}`)));
    assert.deepEqual(
      pages.map((page) => [page.items.length, page.total]),
      [
        [3, 8],
        [3, 8],
        [2, 8],
      ],
    );
    assert.deepEqual(
      pages.flatMap((page) => page.items.map((d) => d.id)),
      all.items.map((d) => d.id),
      'pages in the same order',
    );
    const shop = await list('?connection=shop');
    assert.deepEqual([shop.items.length, shop.total, new Set(shop.items.map((d) => d.connection)).size], [6, 6, 1]);
    const archive = await list('?destination=archive');
    assert.deepEqual(
      archive.items.map((d) => [d.connection, d.destination, d.subject]),
      [
        ['legacy', 'archive', 'old order'],
        ['legacy', 'archive', 'old order'],
      ],
    );
    assert.equal(archive.total, 2);
    assert.deepEqual(await list('?connection=shop&destination=archive'), { items: [], total: 0 });
    assert.deepEqual(await list('?offset=100'), { items: [], total: 8 }, 'past the end: nothing, and still the total');
    const bad = await api.app.inject({ url: '/api/dead-letters?limit=0', headers: AUTH });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().issues[0].path, 'limit');

    const doc = (await api.app.inject({ url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, { parameters?: Array<{ name: string }>; responses: Record<string, { headers?: object }> }>>;
    };
    const listing = doc.paths['/api/dead-letters']!.get!;
    assert.deepEqual(listing.parameters?.map((p) => p.name).sort(), ['connection', 'destination', 'limit', 'offset']);
    assert.ok(listing.responses['200']?.headers && 'X-Total-Count' in listing.responses['200'].headers);
    assert.ok(doc.paths['/api/dead-letters/{id}/discard']?.post && doc.paths['/api/dead-letters/discard']?.post);
  });

  it('replays a whole email, which fails again and stays', async () => {
    const [first] = (await list('?connection=legacy')).items;
    const replay = await post('/api/dead-letters/replay', { email: first!.email });
    assert.equal(replay.statusCode, 200, replay.body);
    assert.deepEqual([replay.json().replayed, replay.json().failed], [2, 2]);
    assert.equal((await list()).total, 8);
    assert.equal((await post('/api/dead-letters/replay', {})).statusCode, 400, 'neither ids nor an email');
  });

  it('discards one, then the rest of its email: out of the dead letters and the gauge, into the trail, content let go', async () => {
    const { items } = await list('?connection=shop');
    const [one, ...rest] = items.filter((d) => d.email === items[0]!.email);
    assert.equal(rest.length, 1);
    const ledger = parseEmailId(one!.email)!;
    const rawRef = (await api.opened.store.findLedger(ledger.connection, ledger.sourceKey))?.rawRef;
    const contentRef = (await api.opened.store.getOutboxMessage(one!.id))?.contentRef;
    assert.ok(rawRef && contentRef);
    assert.equal(await deadGauge('shop'), 6);

    const discarded = await post(`/api/dead-letters/${one!.id}/discard`);
    assert.equal(discarded.statusCode, 200, discarded.body);
    assert.deepEqual(discarded.json(), { discarded: 1, ids: [one!.id], notDiscarded: [] });
    assert.equal((await list('?connection=shop')).total, 5);
    assert.equal(await deadGauge('shop'), 5, 'postroom_dead_letters drops');
    await assert.rejects(access(api.opened.content.filePath!(contentRef)!), 'its content is let go');
    assert.ok((await api.opened.store.findLedger(ledger.connection, ledger.sourceKey))?.rawRef, 'the raw email stays: its other part is still dead');
    const again = await post(`/api/dead-letters/${one!.id}/discard`);
    assert.equal(again.statusCode, 404, 'no longer a dead letter');
    assert.equal((await post('/api/dead-letters/nope/discard')).statusCode, 404);

    const whole = await post('/api/dead-letters/discard', { email: one!.email });
    assert.deepEqual(whole.json(), { discarded: 1, ids: [rest[0]!.id], notDiscarded: [] });
    assert.equal((await api.opened.store.findLedger(ledger.connection, ledger.sourceKey))?.rawRef, null, 'nothing needs the raw email now');

    const view = await trail(one!.email);
    assert.deepEqual(
      view.timeline.filter((entry) => entry.event === 'discarded').map((entry) => [entry.messageId, entry.detail]),
      [
        [one!.id, 'by the API'],
        [rest[0]!.id, 'by the API'],
      ],
    );
    assert.deepEqual(
      view.messages.map((m) => [m.state, m.deliveredAt]),
      [
        ['discarded', null],
        ['discarded', null],
      ],
    );
    assert.equal((await post('/api/dead-letters/discard', { email: 'not-an-email' })).statusCode, 404);
  });

  it('discards from the CLI, says which it could not, and the trail says by the CLI', async () => {
    const { items } = await list('?connection=shop');
    const [first, second] = items;
    const cli = await runCli(['--config', configPath, 'dead-letters', 'discard', first!.id, 'nope']);
    assert.equal(cli.code, 1, cli.stderr);
    assert.match(cli.stdout, new RegExp(`^${first!.id}  discarded$`, 'm'));
    assert.match(cli.stdout, /^nope {2}not discarded: not a dead letter/m);
    const byEmail = await runCli(['--config', configPath, 'dead-letters', 'discard', '--email', second!.email, '--json']);
    assert.equal(byEmail.code, 0, byEmail.stderr);
    const report = JSON.parse(byEmail.stdout) as { discarded: string[]; notDiscarded: string[] };
    assert.ok(report.discarded.includes(second!.id));
    assert.deepEqual(report.notDiscarded, []);
    assert.equal((await list('?connection=shop')).total, 4 - 1 - report.discarded.length);
    const timeline = (await trail(first!.email)).timeline.filter((entry) => entry.event === 'discarded');
    assert.ok(timeline.some((entry) => entry.messageId === first!.id && entry.detail === 'by the CLI'));
    assert.equal(await deadGauge('shop'), (await list('?connection=shop')).total);
    const none = await runCli(['--config', configPath, 'dead-letters', 'discard']);
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /give dead letter ids or --email/);
  });
});
