/**
 * The web UI in headless Debian Chromium (playwright-core): log in, add an IMAP connection in the
 * dialog against a real Dovecot, test it, see its first poll on the status board, replay dead
 * letters. Screenshots of the screens land in test-output/.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { SecretBox } from '../../src/store/secret-box.ts';
import { type ApiHarness, makeDeadLetters, sampleEmail, startApi, TOKEN } from '../api/api-kit.ts';
import { openBrowserPage } from '../support/browser.ts';
import { type Dovecot, type DovecotUser, startDovecot } from '../support/dovecot.ts';
import { imapConnection, readDelivered, type Workspace, workspace } from '../support/postroom.ts';

const SCREENSHOTS = join(process.cwd(), 'test-output');
/** A laptop screen. */
const VIEWPORT = { width: 1366, height: 820 };
/** First poll and delivery on a busy 2-core machine. */
const WAIT_MS = 30_000;

describe('the web UI', () => {
  let dovecot: Dovecot;
  let ws: Workspace;
  let api: ApiHarness;
  let browser: Browser;
  let page: Page;
  let base: string;
  let shop: DovecotUser;
  const foreignRequests: string[] = [];

  before(async () => {
    await mkdir(SCREENSHOTS, { recursive: true });
    dovecot = await startDovecot();
    ws = await workspace();
    const legacy = await dovecot.addUser('legacy', 'pw-legacy-5');
    assert.equal(await makeDeadLetters(ws, dovecot, legacy, sampleEmail('stuck invoice'), { name: 'legacy' }), 2);
    shop = await dovecot.addUser('shop', 'pw-shop-9');
    await dovecot.deliverMany(shop.name, [sampleEmail('web order 1'), sampleEmail('web order 2'), sampleEmail('web order 3')]);
    api = await startApi(ws, { worker: true, connections: [imapConnection(dovecot, legacy, { name: 'legacy', enabled: false })] });
    base = await api.app.listen({ host: '127.0.0.1', port: 0 });
    ({ browser, page } = await openBrowserPage(base, { viewport: VIEWPORT, timeoutMs: WAIT_MS, foreignRequests }));
  });
  after(async () => {
    await browser?.close();
    await api?.close();
    await dovecot?.stop();
    await ws?.dispose();
  });

  it('asks for the token and refuses a wrong one', async () => {
    await page.goto(base);
    await page.getByLabel('API token').fill('not-the-token');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').filter({ hasText: 'not the API token' }).waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'ui-0-login.png') });
    await page.getByLabel('API token').fill(TOKEN);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Status' }).waitFor();
  });

  it('adds an IMAP connection in the dialog, shows field errors from the API, and tests it', async () => {
    await page.getByRole('button', { name: 'Connections' }).click();
    await page.getByRole('button', { name: 'Add connection' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add connection' });
    await dialog.waitFor();
    assert.equal(await dialog.getByLabel('Name', { exact: true }).evaluate((el) => el === document.activeElement), true, 'focus starts in the dialog');

    await dialog.getByLabel('Name', { exact: true }).fill('shop');
    await dialog.getByLabel('Host', { exact: true }).fill('127.0.0.1');
    await dialog.getByLabel('Port').fill('99999');
    await dialog.getByLabel('Username').fill(shop.name);
    await dialog.getByLabel('Password').fill(shop.password);
    await dialog.getByLabel('Polling Interval').fill('60s');
    // The browser's own check (max from the schema) stops this first; the API's is the same rule.
    assert.equal(await dialog.getByLabel('Port').evaluate((el) => (el as HTMLInputElement).max), '65535', 'the limit comes from the schema');
    await dialog.getByLabel('Port').evaluate((el) => el.removeAttribute('max'));
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.locator('.field.has-error').filter({ hasText: 'Port' }).getByRole('alert').waitFor();
    assert.match(
      await dialog.locator('.field.has-error').filter({ hasText: 'Port' }).innerText(),
      /65535/,
      "the API's message is shown next to the Port field",
    );

    await dialog.getByLabel('Port').fill(String(dovecot.imapsPort));
    await dialog.getByText('TLS certificate').click();
    await dialog.getByLabel('Extra CA certificate (PEM)').fill(dovecot.caPem);

    await dialog.getByLabel('Host Type').selectOption('pop3');
    assert.equal(await dialog.getByLabel('Delete Messages').isChecked(), true, 'POP3 always deletes');
    assert.equal(await dialog.getByLabel('Delete Messages').isDisabled(), true, 'and the box is locked');
    await dialog.getByLabel('Host Type').selectOption('imap');
    assert.equal(await dialog.getByLabel('Delete Messages').isDisabled(), false);

    await dialog.getByRole('button', { name: 'Test connection' }).click();
    const result = dialog.getByRole('region', { name: 'Connection test result' });
    await result.getByText('Connection test: OK').waitFor();
    const steps = await result.locator('li').allInnerTexts();
    assert.deepEqual(
      steps.map((s) => s.replace(/^[✓✗]\s*/, '').split(/\s/)[0]),
      ['dns', 'tcp', 'tls', 'login', 'folder', 'capabilities'],
    );
    assert.match(steps.join('\n'), /"INBOX" has 3 emails, 3 unseen/, "the check's exact words");
    await page.screenshot({ path: join(SCREENSHOTS, 'ui-1-connection-dialog.png') });

    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByRole('row', { name: /shop/ }).waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'ui-2-connections.png') });
    assert.equal(
      SecretBox.fromEnv().open(String((await api.opened.store.getManagedConnection('shop'))?.config.password)),
      shop.password,
      'stored (sealed) for the worker',
    );
  });

  it('closes a dialog with Esc', async () => {
    await page.getByRole('button', { name: 'Edit shop' }).click();
    const dialog = page.getByRole('dialog', { name: 'Edit shop' });
    await dialog.waitFor();
    assert.match(await dialog.getByText('A password is stored').innerText(), /Leave empty to keep it/);
    assert.equal(await dialog.getByLabel('Password').inputValue(), '', 'the password is never sent back');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
  });

  it('shows the first poll on the status board, which refreshes by itself', async () => {
    await page.getByRole('button', { name: 'Status' }).click();
    const row = page.getByRole('row', { name: /shop/ });
    await row.getByText('OK', { exact: true }).waitFor();
    // The first poll took all three; a later one (IDLE, the schedule) may have found none.
    await row.locator('td').nth(2).getByText('3 in total').waitFor();
    for (let i = 0; i < 100 && (await readDelivered(ws.outDir)).length < 6; i++) await page.waitForTimeout(100);
    assert.equal((await readDelivered(ws.outDir)).length, 6, 'body and attachment of each email delivered');
    await page.locator('figure.plot rect.bar').first().waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'ui-3-status.png') });
  });

  it('polls now, pauses and resumes a connection from its row, and says what happened', async () => {
    const row = page.getByRole('row', { name: /shop/ });
    await row.getByRole('button', { name: 'Poll shop now' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /^shop: (polled|.* reads it and polls it now)/ })
      .waitFor();
    await row.getByRole('button', { name: 'Pause shop' }).click();
    await page.getByRole('status').filter({ hasText: 'shop: paused on every worker.' }).waitFor();
    await row.getByText('Paused', { exact: true }).waitFor();
    await row.getByText(/^paused by API from /).waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'ui-3b-paused.png') });
    await row.getByRole('button', { name: 'Resume shop' }).click();
    await page.getByRole('status').filter({ hasText: 'shop: resumed; polled now.' }).waitFor();
    await row.getByRole('button', { name: 'Pause shop' }).waitFor();
  });

  it('shows dead letters, their envelope, and replays them', async () => {
    await page.getByRole('button', { name: 'Dead letters' }).click();
    const rows = page.locator('table[aria-label="Dead letters"] tbody tr.part');
    await rows.nth(1).waitFor();
    assert.equal(await rows.count(), 2);
    await page.screenshot({ path: join(SCREENSHOTS, 'ui-4-dead-letters.png') });

    await rows.first().getByRole('button', { name: 'Details' }).click();
    const envelope = page.getByRole('dialog');
    await envelope.getByText('"subject": "stuck invoice"').waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'ui-5-envelope.png') });
    await page.keyboard.press('Escape');
    await envelope.waitFor({ state: 'detached' });

    const download = page.waitForEvent('download');
    await rows.first().getByRole('button', { name: 'Raw email' }).click();
    const raw = await download;
    assert.match(raw.suggestedFilename(), /^[0-9a-f]+\.eml$/);

    const before = (await readDelivered(ws.outDir)).length;
    await rows.first().getByRole('button', { name: 'Replay' }).click();
    // The answer says what happened, once it has happened: delivered (not merely made due).
    await page.getByRole('status').filter({ hasText: 'Replayed: delivered.' }).waitFor();
    assert.equal((await readDelivered(ws.outDir)).length, before + 1, 'the replayed dead letter is delivered');
    await page.getByRole('button', { name: 'Replay all' }).click();
    await page.getByText('No dead letters: everything was delivered.').waitFor();
  });

  it('made no request to any other host', () => {
    assert.deepEqual(foreignRequests, []);
  });
});
