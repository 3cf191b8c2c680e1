/**
 * The Emails page in headless Debian Chromium (playwright-core), against a real Dovecot and a real
 * worker: the shop's invoice is delivered to a directory, the archive's invoice is refused by a
 * webhook (HTTP 400, a dead letter at once), and a newsletter is delivered too. A search by a
 * subject word finds both invoices with their states and not the newsletter; the delivered one's
 * trail says it was picked up, marked read and delivered; the dead one's says why, and its
 * Replay says it failed again; the status board opens the page for one connection. Screenshots
 * land in test-output/.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { type ApiHarness, sampleEmail, startApi, TOKEN } from '../api/api-kit.ts';
import { type Catcher, startCatcher } from '../api/catcher.ts';
import { logIn, openBrowserPage } from '../support/browser.ts';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import { imapConnection, readDelivered, type Workspace, workspace } from '../support/postroom.ts';
import { waitFor } from '../support/wait-for.ts';

const SCREENSHOTS = join(process.cwd(), 'test-output');
/** A laptop screen. */
const VIEWPORT = { width: 1366, height: 820 };
/** First poll and delivery on a busy 2-core machine. */
const WAIT_MS = 30_000;

const PAID = 'invoice 1001 paid';
const REFUSED = 'invoice 1002 refused';
const NEWSLETTER = 'newsletter march';

describe('the Emails page', () => {
  let dovecot: Dovecot;
  let ws: Workspace;
  let hook: Catcher;
  let api: ApiHarness;
  let browser: Browser;
  let page: Page;
  let base: string;
  const foreignRequests: string[] = [];
  const consoleErrors: string[] = [];

  const results = () => page.getByRole('table', { name: 'Emails' }).locator('tbody tr');
  const resultRow = (subject: string) => page.getByRole('table', { name: 'Emails' }).getByRole('row', { name: new RegExp(subject) });
  /** The timeline's rows for one event, by the event's name in the row's header cell. */
  const events = (dialog: Locator, event: string) =>
    dialog
      .getByRole('table', { name: 'Timeline' })
      .locator('tbody tr')
      .filter({ has: page.getByRole('rowheader', { name: event, exact: true }) });

  before(async () => {
    await mkdir(SCREENSHOTS, { recursive: true });
    dovecot = await startDovecot();
    ws = await workspace();
    hook = await startCatcher('http');
    const shop = await dovecot.addUser('shop', 'pw-shop-3');
    const archive = await dovecot.addUser('archive', 'pw-archive-8');
    await dovecot.deliverMany(shop.name, [sampleEmail(PAID), sampleEmail(NEWSLETTER)]);
    await dovecot.deliver(archive.name, sampleEmail(REFUSED));
    api = await startApi(ws, {
      worker: true,
      connections: [imapConnection(dovecot, shop, { name: 'shop' }), imapConnection(dovecot, archive, { name: 'archive', destination: 'hook' })],
      extra: {
        destinations: { out: { type: 'directory', path: ws.outDir }, hook: { type: 'webhook', url: `${hook.url}/invoices` } },
        // Delivered content is kept, so a delivered message can be sent again from its trail.
        outbox: { keepDeliveredContent: '1h' },
      },
    });
    base = await api.app.listen({ host: '127.0.0.1', port: 0 });
    // Both emails of the shop (body and attachment each) delivered, both parts of the archive's dead.
    await waitFor(
      'the first polls and deliveries',
      async () => (await readDelivered(ws.outDir)).length === 4 && (await api.opened.store.listDeadLetters()).length === 2,
      WAIT_MS,
    );
    ({ browser, page } = await openBrowserPage(base, { viewport: VIEWPORT, timeoutMs: WAIT_MS, foreignRequests, consoleErrors }));
    await logIn(page, base, TOKEN);
  });
  after(async () => {
    await browser?.close();
    await api?.close();
    await hook?.close();
    await dovecot?.stop();
    await ws?.dispose();
  });

  it('finds both invoices by a subject word, with their states, and not the newsletter', async () => {
    await page.getByRole('button', { name: 'Emails' }).click();
    await page.getByRole('heading', { name: 'Emails' }).waitFor();
    await resultRow(NEWSLETTER).waitFor();
    assert.equal(await results().count(), 3, 'opened, it lists the latest emails');

    await page.getByLabel('Subject', { exact: true }).fill('invoice');
    await page.keyboard.press('Enter');
    await resultRow(NEWSLETTER).waitFor({ state: 'detached' });
    assert.equal(await results().count(), 2);
    assert.match(await resultRow(PAID).innerText(), /shop[\s\S]*orders@example\.com[\s\S]*Delivered\s+2$/);
    assert.match(await resultRow(REFUSED).innerText(), /archive[\s\S]*orders@example\.com[\s\S]*Dead letter\s+2$/);
    await page.screenshot({ path: join(SCREENSHOTS, 'ui-emails-1-search.png') });

    await page.getByLabel('State').selectOption('dead');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await resultRow(PAID).waitFor({ state: 'detached' });
    assert.equal(await results().count(), 1, 'only the dead one');
    await resultRow(REFUSED).waitFor();
    await page.getByLabel('State').selectOption('');
  });

  it('says what to try when nothing matches, and catches dates the wrong way round', async () => {
    await page.getByLabel('Search', { exact: true }).fill('no-such-word');
    await page.keyboard.press('Enter');
    await page.getByText('No email matches this search. Try:').waitFor();
    assert.equal(await results().count(), 0);
    await page.screenshot({ path: join(SCREENSHOTS, 'ui-emails-2-nothing-found.png') });

    await page.getByLabel('Search', { exact: true }).fill('');
    await page.getByLabel('Picked up from').fill('2026-03-05');
    await page.getByLabel('Picked up to').fill('2026-03-04');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: '"to" date is before the "from" date' }).waitFor();
    await page.getByRole('button', { name: 'Clear' }).click();
    await resultRow(NEWSLETTER).waitFor();
    assert.equal(await page.getByRole('alert').count(), 0, 'a good search clears the message');
    assert.equal(await page.getByLabel('Subject', { exact: true }).inputValue(), '', 'Clear empties the fields');
  });

  it('opens the delivered invoice: picked up, marked read, delivered to the directory', async () => {
    await page.getByRole('button', { name: `Open the trail of ${PAID}` }).click();
    const dialog = page.getByRole('dialog', { name: PAID });
    await dialog.getByRole('table', { name: 'Timeline' }).waitFor();
    const facts = await dialog.locator('dl.facts').innerText();
    assert.match(facts, /Message-ID\s+<invoice-1001-paid@example\.com>/);
    assert.match(facts, /From\s+"Orders" <orders@example\.com>/);
    assert.match(facts, /Acknowledged\s+marked read/, 'how it was acknowledged, in words');
    assert.match(facts, /State\s+Delivered/);

    assert.equal(await events(dialog, 'Picked up').count(), 1);
    assert.equal(await events(dialog, 'Acknowledged').count(), 1);
    assert.match(await events(dialog, 'Acknowledged').innerText(), /marked read/);
    assert.equal(await events(dialog, 'Delivered').count(), 2, 'the body and the attachment');
    assert.match(await events(dialog, 'Delivered').last().innerText(), /order\.csv\s+out/, 'which pipeline message, and where to');
    assert.equal(await events(dialog, 'Failed').count(), 0);

    const messages = dialog.getByRole('table', { name: 'Pipeline messages' }).locator('tbody tr');
    assert.equal(await messages.count(), 2);
    assert.match(await messages.filter({ hasText: 'order.csv' }).innerText(), /attachment: order\.csv[\s\S]*out\s+Delivered/);
    assert.equal(await messages.first().locator('td').nth(4).innerText(), '–', 'delivered: no next attempt');
    assert.equal(await dialog.getByRole('button', { name: /^Replay/ }).count(), 0, 'no dead letter to replay');
    await page.screenshot({ path: join(SCREENSHOTS, 'ui-emails-3-delivered-trail.png') });

    // A downstream system lost the attachment: send it again, with the same id, while its content is kept.
    await dialog.getByRole('button', { name: 'Send order.csv again' }).click();
    await dialog.getByRole('status').filter({ hasText: 'Replayed: delivered.' }).waitFor();
    await events(dialog, 'Replayed').waitFor();
    assert.match(await events(dialog, 'Replayed').innerText(), /order\.csv\s+out[\s\S]*the API/, 'which message, and who asked');
    assert.equal(await events(dialog, 'Delivered').count(), 3, 'delivered again');
    await page.screenshot({ path: join(SCREENSHOTS, 'ui-emails-3b-sent-again.png') });
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.equal(
      await page.getByRole('button', { name: `Open the trail of ${PAID}` }).evaluate((el) => el === document.activeElement),
      true,
      'focus goes back to the row it was opened from',
    );
  });

  it('opens the refused invoice: the webhook’s answer, and a replay that fails again says so', async () => {
    await page.getByRole('button', { name: `Open the trail of ${REFUSED}` }).click();
    const dialog = page.getByRole('dialog', { name: REFUSED });
    await dialog.getByRole('table', { name: 'Timeline' }).waitFor();
    assert.match(await dialog.locator('dl.facts').innerText(), /State\s+Dead letter/);
    assert.equal(await events(dialog, 'Dead letter').count(), 2, 'each pipeline message');
    const detail = await events(dialog, 'Dead letter').first().innerText();
    assert.match(detail, /hook/, 'the destination');
    assert.match(detail, /400/, 'what the webhook answered');
    assert.equal(await events(dialog, 'Delivered').count(), 0);

    const messages = dialog.getByRole('table', { name: 'Pipeline messages' }).locator('tbody tr');
    assert.equal(await messages.count(), 2);
    assert.match(
      await messages.first().innerText(),
      /hook\s+Dead letter\s+1\s[\s\S]*answered 400[\s\S]*\sin \d+s\s+Replay$/,
      'its next try on the dead-letter schedule',
    );
    await page.screenshot({ path: join(SCREENSHOTS, 'ui-emails-4-dead-trail.png') });

    const requestsBefore = hook.received().split('POST /invoices').length;
    await dialog.getByRole('button', { name: 'Replay order.csv' }).click();
    await dialog
      .getByRole('status')
      .filter({ hasText: /^Replayed, but it failed again: .*400/ })
      .waitFor();
    assert.equal(hook.received().split('POST /invoices').length, requestsBefore + 1, 'the replay was sent to the webhook');
    await events(dialog, 'Replayed').waitFor();
    assert.match(await events(dialog, 'Replayed').innerText(), /the API/, 'who asked for it');
    await page.screenshot({ path: join(SCREENSHOTS, 'ui-emails-5-replayed.png') });
    await dialog.getByRole('button', { name: 'Close', exact: true }).last().click();
    await dialog.waitFor({ state: 'detached' });
  });

  it('opens from the status board for one connection', async () => {
    await page.getByRole('button', { name: 'Status' }).click();
    await page.getByRole('link', { name: 'Emails of archive' }).click();
    await page.getByRole('heading', { name: 'Emails' }).waitFor();
    assert.equal(await page.getByLabel('Connection').inputValue(), 'archive');
    await resultRow(REFUSED).waitFor();
    assert.equal(await results().count(), 1, "only the archive's email");
    assert.match(page.url(), /#\/emails\?connection=archive$/);
  });

  it('showed the login on the first load without a 401, and no error in the console', () => {
    assert.deepEqual(consoleErrors, []);
  });

  it('made no request to any other host', () => {
    assert.deepEqual(foreignRequests, []);
  });
});
