/**
 * The filter's judge on its own (src/filter/): globs match whole text ignoring case, /regex/
 * searches, an attachment matches by type or file name, and before the download a missing
 * attachment is undecided rather than a reason to leave the email out.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { filterSchema } from '../../src/config/filter-schema.ts';
import type { EmailFacts } from '../../src/filter/email-facts.ts';
import { judgeEmail } from '../../src/filter/judge-email.ts';
import { attachmentSelected, routeOf } from '../../src/filter/select-parts.ts';

const facts = (extra: Partial<EmailFacts> = {}): EmailFacts => ({
  from: 'billing@supplier.example',
  recipients: ['invoices@buyer.example'],
  subject: 'Invoice 1001',
  size: 10_000,
  autoReply: null,
  bounce: false,
  ...extra,
});

it('globs match the whole address or subject, ignoring case; /regex/flags is searched', () => {
  const filter = filterSchema.parse({ from: ['*@SUPPLIER.example'], subject: ['invoice *', '/^(Rechnung|Factura)\\b/i'] });
  assert.equal(judgeEmail(filter, facts()).verdict, 'taken');
  assert.equal(judgeEmail(filter, facts({ subject: 'RECHNUNG 7' })).verdict, 'taken');
  assert.deepEqual(judgeEmail(filter, facts({ subject: 'Re: Invoice 1001' })), {
    verdict: 'left',
    condition: 'subject',
    reason: 'subject "Re: Invoice 1001" matches none of "invoice *", "/^(Rechnung|Factura)\\\\b/i"',
  });
  assert.equal(judgeEmail(filter, facts({ from: 'billing@supplier.example.evil' })).verdict, 'left', 'a glob is anchored at both ends');
});

it('sizes with units, recipients from To, Cc and Delivered-To', () => {
  const filter = filterSchema.parse({ to: 'invoices@*', maxSize: '25MB', minSize: '1KiB' });
  assert.equal(judgeEmail(filter, facts()).verdict, 'taken');
  assert.equal(judgeEmail(filter, facts({ size: 25_000_001 })).verdict, 'left');
  assert.equal(judgeEmail(filter, facts({ size: 1023 })).verdict, 'left');
  assert.equal(judgeEmail(filter, facts({ recipients: ['someone@else.example'] })).verdict, 'left');
});

it('attachment conditions: a matching one in the structure decides; a missing one waits for the split', () => {
  const filter = filterSchema.parse({ attachmentTypes: ['application/pdf', '*.xml'] });
  assert.equal(judgeEmail(filter, facts()).verdict, 'undecided', 'attachments unknown before the download');
  assert.equal(judgeEmail(filter, facts({ attachments: { list: [{ contentType: 'text/xml', filename: 'a.XML' }], complete: false } })).verdict, 'taken');
  assert.equal(judgeEmail(filter, facts({ attachments: { list: [{ contentType: 'image/png', filename: 'x.png' }], complete: false } })).verdict, 'undecided');
  assert.equal(judgeEmail(filter, facts({ attachments: { list: [{ contentType: 'image/png', filename: 'x.png' }], complete: true } })).verdict, 'left');
});

it('auto-replies and bounces are skipped only when asked', () => {
  assert.equal(judgeEmail(filterSchema.parse({}), facts({ autoReply: 'Auto-Submitted: auto-replied', bounce: true })).verdict, 'taken');
  const skip = filterSchema.parse({ autoReplies: 'skip', bounces: 'skip' });
  assert.equal(judgeEmail(skip, facts({ autoReply: 'Auto-Submitted: auto-replied' })).verdict, 'left');
  assert.equal(judgeEmail(skip, facts({ bounce: true })).verdict, 'left');
});

it('attachments: includes, and exclusions with !', () => {
  assert.equal(attachmentSelected(['!image/*'], { contentType: 'image/png', filename: 'logo.png' }), false);
  assert.equal(attachmentSelected(['!image/*'], { contentType: 'application/pdf', filename: 'a.pdf' }), true);
  assert.equal(attachmentSelected(['*.xml'], { contentType: 'application/pdf', filename: 'a.pdf' }), false);
  assert.equal(attachmentSelected(undefined, { contentType: 'image/png', filename: null }), true);
});

it('routes: the first whose when holds names the destination, else the fallback', () => {
  const routes = [
    { when: { kind: 'attachment' as const, contentType: ['application/pdf'], bounce: false }, destination: 'pdfs' },
    { when: { kind: 'body' as const }, destination: 'bodies' },
  ];
  assert.equal(routeOf(routes, { kind: 'attachment', contentType: 'application/pdf', filename: 'a.pdf' }, facts(), 'out'), 'pdfs');
  assert.equal(routeOf(routes, { kind: 'attachment', contentType: 'application/pdf', filename: 'a.pdf' }, facts({ bounce: true }), 'out'), 'out');
  assert.equal(routeOf(routes, { kind: 'body', contentType: 'text/plain', filename: 'body.txt' }, facts(), 'out'), 'bodies');
  assert.equal(routeOf(routes, { kind: 'attachment', contentType: 'text/xml', filename: 'a.xml' }, facts(), 'out'), 'out');
});
