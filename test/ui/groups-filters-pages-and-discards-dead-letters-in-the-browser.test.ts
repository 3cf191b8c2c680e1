/**
 * The Dead letters page in headless Debian Chromium (playwright-core), against a real Dovecot and
 * a real worker: 26 emails of the shop and one of the legacy mailbox (body and attachment each)
 * are refused by webhooks with HTTP 400, so 54 dead letters at once, more than a page holds. The
 * page groups them per email under a heading (subject, sender, connection → destination), pages
 * them 50 at a time, filters them by connection, replays a whole email, and discards one part and
 * then the rest of an email after a confirmation: the rows go, the count and postroom_dead_letters
 * drop, and the email's trail says "discarded by the API". Screenshots land in test-output/.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { type ApiHarness, refusedByWebhooks, sampleEmail, startApi, TOKEN } from '../api/api-kit.ts';
import { metricValue, parsePrometheus } from '../api/prometheus-text.ts';
import { startReceiver, type WebhookReceiver } from '../delivery/webhook-receiver.ts';
import { logIn, openBrowserPage } from '../support/browser.ts';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import { type Workspace, workspace } from '../support/postroom.ts';

const SCREENSHOTS = join(process.cwd(), 'test-output');
const VIEWPORT = { width: 1366, height: 820 };
const WAIT_MS = 30_000;
const SHOP_EMAILS = 26;
const OLD = 'old order 77';

describe('the Dead letters page', () => {
  let dovecot: Dovecot;
  let ws: Workspace;
  let refusing: WebhookReceiver;
  let api: ApiHarness;
  let browser: Browser;
  let page: Page;
  const foreignRequests: string[] = [];

  const groups = () => page.locator('table[aria-label="Dead letters"] tbody.email-group');
  const group = (subject: string) => page.getByRole('rowgroup', { name: `Email ${subject}`, exact: true });
  const pager = () => page.getByRole('navigation', { name: 'Pages of dead letters' });
  const deadGauge = async (connection: string) =>
    metricValue(parsePrometheus((await api.app.inject({ method: 'GET', url: '/metrics' })).body), 'postroom_dead_letters', connection);

  before(async () => {
    await mkdir(SCREENSHOTS, { recursive: true });
    dovecot = await startDovecot();
    ws = await workspace();
    refusing = await startReceiver();
    const [shop, legacy] = await Promise.all([dovecot.addUser('ui-dl-shop', 'pw-ui-dl-shop-2'), dovecot.addUser('ui-dl-legacy', 'pw-ui-dl-legacy-2')]);
    // One poll of each mailbox; a 400 sends each part to the dead letters at once.
    const { connections, destinations } = await refusedByWebhooks(
      ws,
      dovecot,
      refusing,
      { shop, legacy },
      { shop: Array.from({ length: SHOP_EMAILS }, (_, i) => sampleEmail(`order ${i + 1}`)), legacy: [sampleEmail(OLD)] },
    );
    api = await startApi(ws, { worker: true, connections: connections.map((c) => ({ ...c, enabled: false })), extra: { destinations } });
    assert.equal(await api.opened.store.countDeadLetters(), 2 * SHOP_EMAILS + 2);
    const base = await api.app.listen({ host: '127.0.0.1', port: 0 });
    ({ browser, page } = await openBrowserPage(base, { viewport: VIEWPORT, timeoutMs: WAIT_MS, foreignRequests }));
    await logIn(page, base, TOKEN);
  });
  after(async () => {
    await browser?.close();
    await api?.close();
    await refusing?.close();
    await dovecot?.stop();
    await ws?.dispose();
  });

  it('groups the dead letters per email under one heading, and pages them 50 at a time', async () => {
    await page.getByRole('button', { name: 'Dead letters' }).click();
    await pager().getByText('Showing 1–50 of 54').waitFor();
    assert.equal(await groups().count(), 25, '50 dead letters, two per email');
    const first = group('order 1');
    const heading = await first.locator('tr.email-head').innerText();
    assert.match(heading, /order 1/);
    assert.match(heading, /"?Orders"? <orders@example\.com> · shop → orders/, 'sender, connection and destination');
    assert.equal(await first.locator('tr.part').count(), 2);
    assert.match(await first.locator('tr.part').nth(1).innerText(), /Attachment: order\.csv/);
    const reason = first.locator('tr.part .reason').first();
    assert.equal(
      await reason.innerText(),
      `The destination rejected this part of the email for good: ${new URL(refusing.url).origin} answered 400: {"error":"unknown field kind"}. Fix the receiver, then press Replay`,
      'the address and the cause, whole, in plain words',
    );
    const box = await reason.boundingBox();
    assert.ok(box && box.x + box.width <= VIEWPORT.width, 'the reason fits on the screen: it wraps, nothing is cut');
    await page.screenshot({ path: join(SCREENSHOTS, 'ui-dead-letters-1-grouped.png') });

    await pager().getByRole('button', { name: 'Next' }).click();
    await pager().getByText('Showing 51–54 of 54').waitFor();
    assert.equal(await groups().count(), 2);
    assert.equal(await pager().getByRole('button', { name: 'Next' }).isDisabled(), true);
    await pager().getByRole('button', { name: 'Previous' }).click();
    await pager().getByText('Showing 1–50 of 54').waitFor();
  });

  it('filters by connection, and replays a whole email', async () => {
    await page.getByLabel('Connection').selectOption('legacy');
    await pager().getByText('Showing 1–2 of 2').waitFor();
    assert.equal(await groups().count(), 1);
    assert.match(await group(OLD).locator('tr.email-head').innerText(), /legacy → archive/);
    await page.screenshot({ path: join(SCREENSHOTS, 'ui-dead-letters-2-filtered.png') });

    const before = refusing.requests.length;
    await group(OLD)
      .getByRole('button', { name: `Replay every part of ${OLD}` })
      .click();
    await page
      .getByRole('status')
      .filter({ hasText: /^Replayed 2: 0 delivered, 2 failed again\. First failure: .*400/ })
      .waitFor();
    assert.equal(refusing.requests.length, before + 2, 'both parts were sent again');
  });

  it('discards one part after a confirmation: the row goes, the count drops, the trail says by the API', async () => {
    assert.equal(await deadGauge('legacy'), 2);
    await group(OLD)
      .locator('tr.part')
      .first()
      .getByRole('button', { name: /^Discard / })
      .click();
    const confirm = page.getByRole('dialog', { name: 'Discard for good?' });
    await confirm.getByText(/Postroom will not try to deliver it again/).waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'ui-dead-letters-3-confirm-discard.png') });
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'detached' });
    assert.equal(await group(OLD).locator('tr.part').count(), 2, 'Cancel discards nothing');

    await group(OLD)
      .locator('tr.part')
      .first()
      .getByRole('button', { name: /^Discard / })
      .click();
    await confirm.getByRole('button', { name: 'Discard', exact: true }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /^Discarded 1 dead letter/ })
      .waitFor();
    await pager().getByText('Showing 1–1 of 1').waitFor();
    assert.equal(await group(OLD).locator('tr.part').count(), 1);
    assert.equal(await deadGauge('legacy'), 1, 'postroom_dead_letters drops');

    await group(OLD)
      .getByRole('button', { name: `Open the trail of ${OLD}` })
      .click();
    const trail = page.getByRole('dialog', { name: OLD });
    const discarded = trail
      .getByRole('table', { name: 'Timeline' })
      .locator('tbody tr')
      .filter({ has: page.getByRole('rowheader', { name: 'Discarded', exact: true }) });
    await discarded.waitFor();
    assert.match(await discarded.innerText(), /by the API/);
    assert.match(await trail.getByRole('table', { name: 'Pipeline messages' }).innerText(), /Discarded/);
    await page.screenshot({ path: join(SCREENSHOTS, 'ui-dead-letters-4-trail-discarded.png') });
    await page.keyboard.press('Escape');
    await trail.waitFor({ state: 'detached' });
  });

  it('discards the rest of the email, and the whole list counts one email fewer', async () => {
    await group(OLD)
      .getByRole('button', { name: `Discard every part of ${OLD}` })
      .click();
    await page.getByRole('dialog', { name: 'Discard for good?' }).getByRole('button', { name: 'Discard', exact: true }).click();
    await page.getByText('No dead letters for this connection and destination.').waitFor();
    assert.equal(await deadGauge('legacy'), 0);
    await page.getByLabel('Connection').selectOption('');
    await pager().getByText('Showing 1–50 of 52').waitFor();
  });

  it('made no request to any other host', () => {
    assert.deepEqual(foreignRequests, []);
  });
});
