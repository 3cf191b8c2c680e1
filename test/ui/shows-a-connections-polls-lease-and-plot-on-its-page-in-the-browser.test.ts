/**
 * The connection page in headless Debian Chromium (playwright-core): a worker polls a real
 * Dovecot mailbox (two emails), the password is changed on the server and the next poll fails;
 * the page, opened by clicking the connection's row on the status board, shows both polls with
 * their outcome, the error and what helps, the worker holding the lease in plain words, the
 * emails on the plot, and the settings read-only with a note that they come from postroom.yaml.
 * A second mailbox is throttled for real (Dovecot's per-user connection limit, held by another
 * client) and read once the limit frees: its page shows the wait, why, and when reading went on.
 * Then it is paused with `postroom pause` from another shell (its lease goes free), resumed and
 * polled now through the API: the API and the page's Controls show each with who and when, and
 * the poll the poll now caused says who asked for it.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ImapFlow } from 'imapflow';
import type { Browser, Page } from 'playwright-core';
import { type ApiHarness, AUTH, MUTATE, sampleEmail, startApi, TOKEN } from '../api/api-kit.ts';
import { logIn, openBrowserPage } from '../support/browser.ts';
import { runCli, writeConfigFile } from '../support/cli.ts';
import { type Dovecot, type DovecotUser, startDovecot } from '../support/dovecot.ts';
import { imapConnection, type Workspace, workspace } from '../support/postroom.ts';
import { waitFor, waitForValue } from '../support/wait-for.ts';

const SCREENSHOTS = join(process.cwd(), 'test-output');
const VIEWPORT = { width: 1366, height: 1000 };
/** A poll and a page load on a busy 2-core machine. */
const WAIT_MS = 30_000;

describe('the connection page', () => {
  let dovecot: Dovecot;
  let ws: Workspace;
  let api: ApiHarness;
  let browser: Browser;
  let page: Page;
  let base: string;
  let busy: DovecotUser;
  const foreignRequests: string[] = [];

  before(async () => {
    await mkdir(SCREENSHOTS, { recursive: true });
    // One connection per user from 127.0.0.1: a client holding it throttles the worker (no IDLE
    // sessions, so each poll is the worker's only connection).
    dovecot = await startDovecot({ maxUserIpConnections: 1 });
    ws = await workspace();
    const shop = await dovecot.addUser('shop', 'pw-shop-9');
    await dovecot.deliverMany(shop.name, [sampleEmail('web order 1'), sampleEmail('web order 2')]);
    busy = await dovecot.addUser('busy', 'pw-busy-7');
    await dovecot.deliver(busy.name, sampleEmail('busy order'));
    const squatter = new ImapFlow({
      host: '127.0.0.1',
      port: dovecot.imapsPort,
      secure: true,
      auth: { user: busy.name, pass: busy.password },
      tls: { ca: dovecot.caPem },
      logger: false,
    });
    await squatter.connect();
    api = await startApi(ws, {
      worker: true,
      connections: [
        imapConnection(dovecot, shop, { name: 'shop', pollingInterval: '10m', idle: false }),
        imapConnection(dovecot, busy, { name: 'busy', pollingInterval: '10m', idle: false, throttleLatency: '2s' }),
      ],
    });
    const { store } = api.opened;
    // The worker's first poll of shop takes both emails; busy's is throttled, then read once the other client leaves.
    await waitFor('the first poll', async () => (await store.recentPolls('shop', 5)).some((poll) => poll.emails === 2), WAIT_MS);
    await waitFor('a throttled wait', async () => (await store.recentPolls('busy', 5)).some((poll) => poll.throttled), WAIT_MS);
    await squatter.logout();
    await waitFor('reading after the wait', async () => (await store.recentPolls('busy', 5)).some((poll) => poll.emails === 1), WAIT_MS);
    // The password changes on the server; the next poll (asked for now) is refused.
    await dovecot.setPassword(shop.name, 'pw-changed-4');
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const poll = await api.app.inject({ method: 'POST', url: '/api/connections/shop/poll', headers: MUTATE });
    assert.equal(poll.json().outcome, 'failed', poll.body);

    base = await api.app.listen({ host: '127.0.0.1', port: 0 });
    ({ browser, page } = await openBrowserPage(base, { viewport: VIEWPORT, timeoutMs: WAIT_MS, foreignRequests }));
  });
  after(async () => {
    await browser?.close();
    await api?.close();
    await dovecot?.stop();
    await ws?.dispose();
  });

  it('opens from the connection’s row on the status board', async () => {
    await logIn(page, base, TOKEN);
    const row = page.getByRole('row', { name: /shop/ });
    await row.getByText('Failing', { exact: true }).waitFor();
    await row.getByText('Failing', { exact: true }).click();
    await page.getByRole('heading', { name: 'shop', level: 1 }).waitFor();
    assert.match(page.url(), /#\/connection\/shop$/);
  });

  it('shows the polls newest first with their outcome, the error and what helps', async () => {
    const rows = page.locator('table[aria-label="Polls"] tbody tr');
    await rows.nth(1).waitFor();
    const failed = rows.filter({ hasText: 'Failed' }).first();
    assert.match(await failed.innerText(), /refused the login/, 'the error');
    assert.match(await failed.locator('.hint').innerText(), /If the password was changed on the server, give the connection the new one/, 'what helps');
    assert.equal(await rows.first().getByText('Failed', { exact: true }).count(), 1, 'the newest poll comes first');
    assert.equal(await failed.locator('.asked').innerText(), 'Asked by API from 127.0.0.1', 'the poll now asked for it');
    const took = rows.filter({ hasText: 'OK' }).last();
    assert.deepEqual(
      (await took.locator('td.num').allInnerTexts()).slice(1),
      ['2', '4'],
      'the first poll: two emails, four pipeline messages (body and attachment each)',
    );
    assert.match(await took.locator('td').nth(5).innerText(), new RegExp(`worker .+, process ${process.pid}`), 'the worker in plain words');
  });

  it('says which worker reads it, in plain words, and shows the emails on the plot', async () => {
    const who = page.locator('.card').filter({ hasText: 'Who reads it' }).locator('strong');
    assert.match(await who.innerText(), new RegExp(`^Read by worker ${hostname()}, process ${process.pid}, until \\d{1,2}:\\d{2}:\\d{2}`));
    const plot = page.locator('figure.plot');
    await plot.locator('rect.bar').first().waitFor();
    assert.match(await plot.locator('figcaption').innerText(), /Per hour, last 24 h/);
    assert.match(await plot.locator('figcaption').innerText(), /Emails \(2\)/);
    await page.getByText('The provider asked for no pause in the polls shown.').waitFor();
  });

  it('shows the settings read-only, saying they come from postroom.yaml, and never the password', async () => {
    await page.getByText('This connection comes from postroom.yaml').waitFor();
    const settings = page.locator('dl.settings');
    const text = await settings.innerText();
    assert.match(text, /Username\s+shop/);
    assert.match(text, /Password\s+stored \(never shown\)/);
    assert.match(text, /Polling interval\s+10m/);
    assert.doesNotMatch(text, /pw-shop-9|pw-changed-4/);
    assert.equal(await page.locator('section input, section select, section textarea').count(), 0, 'nothing to edit');
    await page.screenshot({ path: join(SCREENSHOTS, 'ui-6-connection-page.png'), fullPage: true });
  });

  it('goes back to the status board, and opens the page from the row’s Details link too', async () => {
    await page.getByRole('link', { name: '← Status' }).click();
    await page.getByRole('heading', { name: 'Status' }).waitFor();
    await page.getByRole('link', { name: 'Details of shop' }).click();
    await page.getByRole('heading', { name: 'shop', level: 1 }).waitFor();
  });

  it('shows a throttled wait: when, why, and when reading went on', async () => {
    await page.getByRole('link', { name: '← Status' }).click();
    await page.getByRole('row', { name: /busy/ }).locator('td').first().click();
    await page.getByRole('heading', { name: 'busy', level: 1 }).waitFor();
    const waits = page.locator('table[aria-label="Throttle history"] tbody tr');
    await waits.first().waitFor();
    const cells = await waits.last().locator('td').allInnerTexts();
    assert.match(cells[1]!, /Maximum number of connections|LIMIT/, "why: the server's words");
    const polls = page.locator('table[aria-label="Polls"] tbody tr');
    const took = polls.filter({ hasText: 'OK' }).first();
    assert.equal((await took.locator('td.num').allInnerTexts())[1], '1', 'read after the wait');
    assert.notEqual(cells[2], 'not known', 'reading went on at the next poll');
    assert.match(cells[3]!, /^\d+s$/, 'how long the wait lasted');
    assert.match(await polls.filter({ hasText: 'Throttled' }).first().locator('.hint').innerText(), /Nothing to do/);
    await page.screenshot({ path: join(SCREENSHOTS, 'ui-7-connection-throttled.png'), fullPage: true });
  });

  it('records a pause from the CLI, a resume and a poll now through the API, with who and when, in the API and on the page', async () => {
    const { store } = api.opened;
    // `postroom pause` from another shell, on the same store.
    const config = await writeConfigFile(ws.dir, {
      store: ws.dataDir,
      destinations: { out: { type: 'directory', path: ws.outDir } },
      connections: [imapConnection(dovecot, busy, { name: 'busy', pollingInterval: '10m', idle: false })],
    });
    const cliUser = `CLI (${userInfo().username})`;
    const paused = await runCli(['--config', config, 'pause', 'busy']);
    assert.equal(paused.code, 0, paused.stderr);
    await waitFor(
      'the paused connection’s lease let go',
      async () => (await store.listLeases()).every((lease) => lease.connection !== 'busy' || lease.expiresAt <= Date.now()),
      WAIT_MS,
    );
    const resumed = await api.app.inject({ method: 'POST', url: '/api/connections/busy/resume', headers: MUTATE });
    assert.equal(resumed.statusCode, 200, resumed.body);
    const polled = await api.app.inject({ method: 'POST', url: '/api/connections/busy/poll', headers: MUTATE });
    assert.equal(polled.statusCode, 200, polled.body);
    // The resume made it due at once: the poll now is the next poll after it (this one or, if the
    // resume's poll was running, the one right after).
    type Controls = { controls: Array<{ at: string; action: string; by: string; polledAt: string | null }> };
    const controls = await waitForValue(
      'the poll the poll now caused',
      async () => {
        const answer = (await api.app.inject({ url: '/api/connections/busy/controls', headers: AUTH })).json() as Controls;
        return answer.controls[0]?.polledAt ? answer : undefined;
      },
      WAIT_MS,
    );
    assert.deepEqual(
      controls.controls.map((c) => [c.action, c.by]),
      [
        ['poll', 'API from 127.0.0.1'],
        ['resume', 'API from 127.0.0.1'],
        ['pause', cliUser],
      ],
      'newest first, each with who',
    );
    const times = controls.controls.map((c) => Date.parse(c.at));
    assert.ok(times[0]! >= times[1]! && times[1]! >= times[2]! && Date.now() - times[2]! < 5 * 60_000, 'and when');
    const polls = (await api.app.inject({ url: '/api/connections/busy/polls', headers: AUTH })).json() as {
      polls: Array<{ startedAt: string; askedBy: string | null }>;
    };
    const asked = polls.polls.filter((p) => p.askedBy !== null);
    assert.deepEqual(
      asked.map((p) => [p.startedAt, p.askedBy]),
      [[controls.controls[0]!.polledAt, 'API from 127.0.0.1']],
      'one poll, the one after the request, says who asked for it',
    );
    assert.ok(Date.parse(asked[0]!.startedAt) >= times[0]!, 'it started after the request');

    await page.goto(`${base}/#/connection/busy`);
    await page.getByRole('heading', { name: 'busy', level: 1 }).waitFor();
    const rows = page.locator('table[aria-label="Controls"] tbody tr');
    // The page may already have been showing this connection (a hash change does not reload it),
    // rendered before the poll was recorded: the tie to the poll shows by its next refresh at latest.
    await rows
      .nth(0)
      .filter({ hasText: /polled at \d{1,2}:\d{2}:\d{2}/ })
      .waitFor({ timeout: WAIT_MS });
    await rows.nth(2).waitFor();
    const cells = await Promise.all([0, 1, 2].map(async (i) => (await rows.nth(i).locator('td').allInnerTexts()).map((text) => text.split('\n')[0])));
    assert.deepEqual(
      cells.map((row) => row.slice(1)),
      [
        ['Poll now', 'API from 127.0.0.1'],
        ['Resumed', 'API from 127.0.0.1'],
        ['Paused', cliUser],
      ],
    );
    assert.match((await rows.nth(2).getAttribute('title')) ?? '', /^Paused by CLI \(.+\) at \d{1,2}:\d{2}:\d{2}/);
    await page.locator('table[aria-label="Polls"] .asked').filter({ hasText: 'Asked by API from 127.0.0.1' }).first().waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'ui-8-connection-controls.png'), fullPage: true });
  });

  it('says so for a connection that does not exist', async () => {
    await page.goto(`${base}/#/connection/nobody`);
    await page.getByRole('alert').filter({ hasText: 'There is no connection named "nobody".' }).waitFor();
  });

  it('made no request to any other host', () => {
    assert.deepEqual(foreignRequests, []);
  });
});
