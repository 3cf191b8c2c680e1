/**
 * The connection dialog's Filter section in headless Debian Chromium (playwright-core), against a
 * real Dovecot: a mailbox with an invoice from the supplier and a newsletter; a connection that
 * takes only the supplier's emails, previewed before it is saved, then polled: the status board
 * says what was left out, only the invoice is delivered, the newsletter stays unread on the
 * server, and the dialog shows the saved filter again (and offers pre-selection on the server only
 * while the emails left out are left). Screenshots land in test-output/.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { type ApiHarness, startApi, TOKEN } from '../api/api-kit.ts';
import { logIn, openBrowserPage } from '../support/browser.ts';
import { type Dovecot, type DovecotUser, startDovecot } from '../support/dovecot.ts';
import { MAILBOX } from '../support/filter-mailbox.ts';
import { readDelivered, type Workspace, workspace } from '../support/postroom.ts';

const SCREENSHOTS = join(process.cwd(), 'test-output');
/** A laptop screen. */
const VIEWPORT = { width: 1366, height: 820 };
/** First poll and delivery on a busy 2-core machine. */
const WAIT_MS = 30_000;

const INVOICE = MAILBOX.find((email) => email.subject === 'Invoice 1001')!;
const NEWSLETTER = MAILBOX.find((email) => email.subject === 'Newsletter July')!;

describe('the Filter section of the connection dialog', () => {
  let dovecot: Dovecot;
  let ws: Workspace;
  let api: ApiHarness;
  let browser: Browser;
  let page: Page;
  let base: string;
  let user: DovecotUser;

  /** The mailbox's emails that are not \Seen, by subject. */
  const unseenSubjects = async (): Promise<string[]> =>
    (await dovecot.listMessages(user.name, { source: true }))
      .filter((message) => !message.flags.includes('\\Seen'))
      .map((message) => /^Subject: (.*)$/m.exec(message.source?.toString('utf8') ?? '')?.[1]?.trim() ?? '');

  const previewRow = (dialog: Locator, subject: string) =>
    dialog.getByRole('region', { name: 'Preview result' }).getByRole('row', { name: new RegExp(subject) });

  before(async () => {
    await mkdir(SCREENSHOTS, { recursive: true });
    dovecot = await startDovecot();
    ws = await workspace();
    user = await dovecot.addUser('supplier-invoices', 'pw-supplier-7');
    await dovecot.deliverMany(user.name, [INVOICE.raw, NEWSLETTER.raw]);
    api = await startApi(ws, { worker: true });
    base = await api.app.listen({ host: '127.0.0.1', port: 0 });
    ({ browser, page } = await openBrowserPage(base, { viewport: VIEWPORT, timeoutMs: WAIT_MS }));
    await logIn(page, base, TOKEN);
  });
  after(async () => {
    await browser?.close();
    await api?.close();
    await dovecot?.stop();
    await ws?.dispose();
  });

  it('previews an unsaved connection that takes only the supplier’s emails, and changes nothing', async () => {
    await page.getByRole('button', { name: 'Connections' }).click();
    await page.getByRole('button', { name: 'Add connection' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add connection' });
    await dialog.getByLabel('Name', { exact: true }).fill('invoices');
    await dialog.getByLabel('Host', { exact: true }).fill('127.0.0.1');
    await dialog.getByLabel('Port').fill(String(dovecot.imapsPort));
    await dialog.getByLabel('Username').fill(user.name);
    await dialog.getByLabel('Password').fill('not-the-password');
    await dialog.getByText('TLS certificate').click();
    await dialog.getByLabel('Extra CA certificate (PEM)').fill(dovecot.caPem);
    await dialog.getByLabel('From', { exact: true }).fill('*@supplier.example');

    await dialog.getByRole('button', { name: 'Preview' }).click();
    const failed = dialog.getByRole('alert').filter({ hasText: /^Preview failed: / });
    await failed.waitFor();
    assert.match(await failed.innerText(), /refused the login/, 'says why, in words');
    assert.equal(await dialog.getByRole('region', { name: 'Preview result' }).count(), 0, 'and shows no rows');
    await dialog.getByLabel('Password').fill(user.password);

    await dialog.getByRole('button', { name: 'Preview' }).click();
    const invoice = previewRow(dialog, 'Invoice 1001');
    const newsletter = previewRow(dialog, 'Newsletter July');
    await invoice.waitFor();
    assert.match(await invoice.innerText(), /billing@supplier\.example/);
    assert.match(await invoice.innerText(), /Taken/);
    assert.match(await invoice.innerText(), /invoice-1001\.pdf → out/, 'the attachment and where it would go');
    assert.match(await newsletter.innerText(), /news@shop\.example/);
    assert.match(await newsletter.innerText(), /Left out/);
    assert.match(
      await newsletter.innerText(),
      /the server's SEARCH FROM "@supplier\.example" found no match/,
      "left out by the server's search, its sender read for the preview",
    );
    assert.equal(
      await newsletter
        .locator('td')
        .nth(1)
        .evaluate((td) => td.firstChild?.textContent),
      'from',
      'the condition that decided',
    );
    await dialog.getByRole('region', { name: 'Preview result' }).scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SCREENSHOTS, 'ui-filter-1-preview.png') });

    assert.deepEqual((await unseenSubjects()).sort(), ['Invoice 1001', 'Newsletter July'], 'the preview marked nothing read');
    assert.equal(api.connections.get('invoices'), undefined, 'and saved nothing');
    assert.deepEqual(await readDelivered(ws.outDir), [], 'and delivered nothing');

    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByRole('row', { name: /invoices/ }).waitFor();
  });

  it('polls it: the status board counts the newsletter left out, only the invoice is delivered, the newsletter stays unread', async () => {
    await page.getByRole('button', { name: 'Status' }).click();
    const row = page.getByRole('row', { name: /invoices/ });
    await row.getByText('1 left out (from 1)').waitFor();
    for (let i = 0; i < 100 && (await readDelivered(ws.outDir)).length < 2; i++) await page.waitForTimeout(100);
    const delivered = await readDelivered(ws.outDir);
    assert.deepEqual(
      delivered.map((d) => `${d.envelope.email.subject}/${d.envelope.kind}`),
      ['Invoice 1001/body', 'Invoice 1001/attachment'],
      'the invoice, body and PDF; nothing of the newsletter',
    );
    assert.deepEqual(await unseenSubjects(), ['Newsletter July'], 'filtered: leave keeps the newsletter unread on the server');
    await page.screenshot({ path: join(SCREENSHOTS, 'ui-filter-2-status.png') });
  });

  it('shows the saved filter when the dialog is opened again, and an invalid regex on the Subject field', async () => {
    await page.getByRole('button', { name: 'Connections' }).click();
    await page.getByRole('button', { name: 'Edit invoices' }).click();
    const dialog = page.getByRole('dialog', { name: 'Edit invoices' });
    assert.equal(await dialog.getByLabel('From', { exact: true }).inputValue(), '*@supplier.example');
    assert.equal(await dialog.getByLabel('Subject', { exact: true }).inputValue(), '');
    assert.equal(await dialog.getByLabel('Has attachments').inputValue(), 'any');
    assert.equal(await dialog.getByLabel('Auto-replies').inputValue(), 'include');
    assert.equal(await dialog.getByLabel('Emails left out').inputValue(), 'leave');
    assert.equal(await dialog.getByLabel('Pre-select on the server').inputValue(), 'on', 'IMAP with leave pre-selects by default');
    await dialog.getByLabel('Emails left out').selectOption('markRead');
    assert.equal(await dialog.getByLabel('Pre-select on the server').count(), 0, 'not offered when the emails left out are marked read');
    await dialog.getByLabel('Emails left out').selectOption('leave');

    await dialog.getByLabel('Subject', { exact: true }).fill('/[/');
    await dialog.getByRole('button', { name: 'Save' }).click();
    const subject = dialog.locator('.field.has-error').filter({ has: page.getByLabel('Subject', { exact: true }) });
    await subject.getByRole('alert').waitFor();
    assert.match(await subject.getByRole('alert').innerText(), /\/\[\/ is not a regular expression/, "the API's message, next to the Subject field");
    assert.equal(await dialog.locator('.field.has-error').count(), 1, 'and on no other field');
    await page.screenshot({ path: join(SCREENSHOTS, 'ui-filter-3-invalid-regex.png') });

    // Back as it was, saved unchanged: the stored filter is the one saved the first time.
    const before = api.connections.get('invoices')?.config?.filter;
    await dialog.getByLabel('Subject', { exact: true }).fill('');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'detached' });
    assert.deepEqual(api.connections.get('invoices')?.config?.filter, before);
    assert.deepEqual(before?.from, ['*@supplier.example']);
  });
});
