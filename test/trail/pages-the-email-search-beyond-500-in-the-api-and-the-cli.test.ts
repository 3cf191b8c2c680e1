/**
 * The email search beyond one page: 1,234 ledger rows (written through the store, not Dovecot;
 * a hundred at a time share a pickup time, so the order's tie-break is paged too) are found
 * page by page through `GET /api/emails` (`more`, `next`, `after`) and `postroom trace`
 * (`--after`, `--all`), each email once and newest first, and a search narrower than the whole
 * ledger pages as well. A cursor that is not one is a 400 / exit 2 naming it. The Emails page in
 * Chromium shows 50, and Load more adds the next 50 below them.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { EmailCommit } from '../../src/store/store.ts';
import { type ApiHarness, AUTH, startApi, TOKEN } from '../api/api-kit.ts';
import { logIn, openBrowserPage } from '../support/browser.ts';
import { type CliResult, runCli, writeConfigFile } from '../support/cli.ts';
import { type Workspace, workspace } from '../support/postroom.ts';

const T0 = Date.UTC(2026, 10, 17, 9, 0, 0);
const EMAILS = 1_234;
/** Emails committed together share a pickup time. */
const GROUP = 100;

interface EmailView {
  id: string;
  connection: string;
  sourceKey: string;
  subject: string | null;
  pickedUpAt: string;
}
interface EmailPage {
  emails: EmailView[];
  more: boolean;
  next: string | null;
}

/** Email n: every third is an invoice; two connections share the ledger. */
function email(n: number): EmailCommit {
  const connection = n % 2 ? 'orders' : 'invoices';
  return {
    summary: { from: `sender${n % 7}@supplier.example`, subject: n % 3 === 0 ? `Invoice ${n}` : `Order ${n}`, sentAt: T0, size: 1000 + n },
    connection,
    sourceKey: `imap:INBOX:1:${n}`,
    key: { protocol: 'imap', folder: 'INBOX', uidValidity: '1', uid: n },
    fingerprint: null,
    messageId: `<${n}@supplier.example>`,
    rawSha256: `sha-${n}`,
    rawRef: `ab/${String(n).padStart(36, '0')}`,
    messages: [],
    now: T0 + Math.floor(n / GROUP) * 1000,
  };
}

/** The search's order: picked up newest first, then connection, then source key. */
function expectedOrder(filter: (n: number) => boolean = () => true): string[] {
  return Array.from({ length: EMAILS }, (_, i) => i + 1)
    .filter(filter)
    .map(email)
    .sort((a, b) => b.now - a.now || (a.connection < b.connection ? -1 : a.connection > b.connection ? 1 : 0) || (a.sourceKey < b.sourceKey ? -1 : 1))
    .map((e) => `${e.connection} ${e.sourceKey}`);
}

const keyOf = (e: EmailView) => `${e.connection} ${e.sourceKey}`;

describe('the email search, page after page beyond 500', () => {
  let ws: Workspace;
  let api: ApiHarness;
  let configPath: string;
  const trace = (...args: string[]): Promise<CliResult> => runCli(['--config', configPath, 'trace', ...args]);
  async function page(query: string): Promise<EmailPage> {
    const response = await api.app.inject({ url: `/api/emails?${query}`, headers: AUTH });
    assert.equal(response.statusCode, 200, response.body);
    return response.json() as EmailPage;
  }
  async function everyPage(query: string): Promise<EmailPage[]> {
    const pages = [await page(query)];
    while (pages.at(-1)!.more) pages.push(await page(`${query}&after=${encodeURIComponent(pages.at(-1)!.next!)}`));
    return pages;
  }

  before(async () => {
    ws = await workspace();
    api = await startApi(ws);
    const { store } = api.opened;
    for (const connection of ['orders', 'invoices']) {
      const lease = (await store.acquireLease(connection, 'filler', 3_600_000, T0))!;
      const mine = Array.from({ length: EMAILS }, (_, i) => email(i + 1)).filter((e) => e.connection === connection);
      for (let at = 0; at < mine.length; at += GROUP) await store.commitEmails(lease, mine.slice(at, at + GROUP));
    }
    configPath = await writeConfigFile(ws.dir, { store: ws.dataDir, destinations: { out: { type: 'directory', path: ws.outDir } }, connections: [] });
  });
  after(async () => {
    await api?.close();
    await ws?.dispose();
  });

  it('answers 500 a page with more and a cursor, until the last page, each email once, newest first', async () => {
    const pages = await everyPage('limit=500');
    assert.deepEqual(
      pages.map((p) => [p.emails.length, p.more, p.next === null]),
      [
        [500, true, false],
        [500, true, false],
        [234, false, true],
      ],
    );
    assert.deepEqual(
      pages.flatMap((p) => p.emails.map(keyOf)),
      expectedOrder(),
    );
    const first = await page('');
    assert.deepEqual([first.emails.length, first.more], [50, true], 'the default page is 50');
  });

  it('pages a narrower search the same way', async () => {
    const pages = await everyPage('q=invoice&limit=300');
    const invoices = expectedOrder((n) => n % 3 === 0);
    assert.equal(invoices.length, 411);
    assert.deepEqual(
      pages.map((p) => p.emails.length),
      [300, 111],
    );
    assert.deepEqual(
      pages.flatMap((p) => p.emails.map(keyOf)),
      invoices,
    );
    assert.ok(pages.flatMap((p) => p.emails).every((e) => e.subject?.startsWith('Invoice ')));
  });

  it('the Emails page shows 50 and adds the next 50 with Load more', async () => {
    const screenshots = join(process.cwd(), 'test-output');
    await mkdir(screenshots, { recursive: true });
    const base = await api.app.listen({ host: '127.0.0.1', port: 0 });
    const { browser, page } = await openBrowserPage(base, { viewport: { width: 1366, height: 900 }, timeoutMs: 30_000 });
    try {
      await logIn(page, base, TOKEN);
      await page.getByRole('button', { name: 'Emails' }).click();
      const rows = page.getByRole('table', { name: 'Emails' }).locator('tbody tr');
      await rows.nth(49).waitFor();
      assert.equal(await rows.count(), 50);
      await page.getByText('50 email(s), the latest first; more match').waitFor();
      await page.getByRole('button', { name: 'Load more' }).click();
      await rows.nth(99).waitFor();
      assert.equal(await rows.count(), 100);
      const expected = expectedOrder().slice(0, 100);
      const subjects = await rows.locator('th button').allInnerTexts();
      assert.deepEqual(
        subjects,
        expected.map((key) => {
          const n = Number(key.split(':').at(-1));
          return n % 3 === 0 ? `Invoice ${n}` : `Order ${n}`;
        }),
        'the next page, in order, below the first',
      );
      await page.screenshot({ path: join(screenshots, 'ui-9-emails-load-more.png') });
    } finally {
      await browser.close();
    }
  });

  it('refuses a cursor that is not one, naming the parameter', async () => {
    const response = await api.app.inject({ url: '/api/emails?after=not-a-cursor', headers: AUTH });
    assert.equal(response.statusCode, 400, response.body);
    assert.match(response.body, /after/);
    const cli = await trace('--after', 'not-a-cursor');
    assert.equal(cli.code, 2, cli.stdout);
    assert.match(cli.stderr, /--after: expected the `next` cursor/);
  });

  it('postroom trace shows the newest 50 and how to see the rest; --after the next page, --all every email', async () => {
    const apiPages = await everyPage('limit=50');
    const first = await trace();
    assert.equal(first.code, 0, first.stderr);
    const rows = (result: CliResult) => result.stdout.split('\n').filter((line) => /^[A-Za-z0-9_-]{20,}\s/.test(line));
    assert.equal(rows(first).length, 50);
    const cursor = /more match: --after (\S+) shows the next 50, --all every one/.exec(first.stdout)?.[1];
    assert.equal(cursor, apiPages[0]!.next, 'the same cursor as the API');
    const second = await trace('--after', cursor!, '--json');
    assert.equal(second.code, 0, second.stderr);
    const secondPage = JSON.parse(second.stdout) as EmailPage;
    assert.deepEqual(secondPage.emails.map(keyOf), apiPages[1]!.emails.map(keyOf));
    assert.deepEqual([secondPage.more, secondPage.next], [true, apiPages[1]!.next]);

    const all = await trace('--all', '--json');
    assert.equal(all.code, 0, all.stderr);
    const everything = JSON.parse(all.stdout) as EmailPage;
    assert.deepEqual(everything.emails.map(keyOf), expectedOrder());
    assert.deepEqual([everything.more, everything.next], [false, null]);
    const table = await trace('--all', '--connection', 'orders');
    assert.equal(rows(table).length, EMAILS / 2);
    assert.doesNotMatch(table.stdout, /more match/, 'nothing left to page');
  });
});
