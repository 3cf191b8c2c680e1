/**
 * The judge on the facts a Graph listing makes of its fields (src/sources/graph/listing-fields.ts):
 * sender and subject decide; a `to` that none of To and Cc matches waits for the download
 * (Delivered-To is not a field); `hasAttachments: true` is at least one attachment, `false` says
 * nothing (inline ones are not counted); types, size, auto-replies and bounces wait too.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { filterSchema } from '../../src/config/filter-schema.ts';
import { judgeEmail } from '../../src/filter/judge-email.ts';
import { type ListedMessage, listingFields, messageFacts } from '../../src/sources/graph/listing-fields.ts';

const message = (extra: Partial<ListedMessage> = {}): ListedMessage => ({
  id: 'AAk1',
  from: { emailAddress: { name: 'Billing', address: 'Billing@Supplier.example' } },
  toRecipients: [{ emailAddress: { name: 'Invoices', address: 'invoices@buyer.example' } }],
  ccRecipients: [],
  subject: 'Invoice 1001',
  hasAttachments: false,
  ...extra,
});
const judge = (filter: unknown, extra: Partial<ListedMessage> = {}) => judgeEmail(filterSchema.parse(filter), messageFacts(message(extra)));

it('asks for the fields the conditions need, and none for conditions the fields cannot decide', () => {
  assert.deepEqual(listingFields(undefined), []);
  assert.deepEqual(listingFields(filterSchema.parse({ attachmentTypes: ['*.pdf'], maxSize: '1MB', autoReplies: 'skip', bounces: 'skip' })), []);
  assert.deepEqual(listingFields(filterSchema.parse({ from: ['*@supplier.example'], to: ['invoices@*'], subject: ['Invoice *'], hasAttachments: true })), [
    'from',
    'toRecipients',
    'ccRecipients',
    'subject',
    'hasAttachments',
  ]);
});

it('decides on the sender (ignoring case) and the subject', () => {
  assert.equal(judge({ from: ['*@supplier.example'], subject: ['Invoice *'] }).verdict, 'taken');
  assert.deepEqual(judge({ from: ['*@supplier.example'] }, { from: { emailAddress: { address: 'news@shop.example' } } }), {
    verdict: 'left',
    condition: 'from',
    reason: 'sender news@shop.example matches none of "*@supplier.example"',
  });
  assert.equal(judge({ subject: ['Invoice *'] }, { subject: 'Newsletter' }).verdict, 'left');
});

it('a recipient in To or Cc holds; none there waits for Delivered-To in the download', () => {
  assert.equal(judge({ to: ['invoices@*'] }).verdict, 'taken');
  assert.equal(judge({ to: ['ap@*'] }, { ccRecipients: [{ emailAddress: { address: 'ap@buyer.example' } }] }).verdict, 'taken');
  assert.equal(judge({ to: ['ap@*'] }).verdict, 'undecided');
});

it('hasAttachments true leaves out what asks for none; false decides nothing', () => {
  assert.deepEqual(judge({ hasAttachments: false }, { hasAttachments: true }), {
    verdict: 'left',
    condition: 'hasAttachments',
    reason: 'has an attachment; hasAttachments: false',
  });
  assert.equal(judge({ hasAttachments: true }, { hasAttachments: false }).verdict, 'undecided', 'an inline attachment may be there');
  assert.equal(judge({ hasAttachments: false }, { hasAttachments: false }).verdict, 'undecided', 'the split decides');
  assert.equal(judge({ attachmentTypes: ['application/pdf'] }, { hasAttachments: true }).verdict, 'undecided');
});

it('size, auto-replies and bounces are never a reason to leave out before the download', () => {
  assert.equal(judge({ maxSize: '1KB' }).verdict, 'undecided');
  assert.equal(judge({ autoReplies: 'skip', bounces: 'skip' }, { subject: 'Automatic reply: Invoice 1001' }).verdict, 'taken');
});
