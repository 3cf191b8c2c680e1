/**
 * Every pipeline message of an email carries its envelope, so an email addressed to thousands
 * (a 266 KB email made 158 MB of envelope JSON) multiplied them all. The envelope lists the
 * first 100 To and Cc recipients and says how many there were; the raw email keeps them all.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { MAX_ENVELOPE_RECIPIENTS } from '../../src/mime/envelope-email.ts';
import { mime, split, type TempStore, tempStore } from './mime-test-kit.ts';

let store: TempStore;
before(async () => {
  store = await tempStore();
});
after(async () => store?.dispose());

function addresses(count: number, prefix: string): string {
  return Array.from({ length: count }, (_, index) => `${prefix}${index}@postroom.test`).join(',\r\n ');
}

it('lists the first 100 To and Cc recipients and counts them all', async () => {
  const raw = mime('From: a@postroom.test', `To: ${addresses(3000, 'to')}`, `Cc: ${addresses(150, 'cc')}`, 'Subject: everyone', '', 'hello', '');
  const { email } = await split(raw, store.content);
  assert.equal(MAX_ENVELOPE_RECIPIENTS, 100);
  assert.equal(email.to.length, 100);
  assert.equal(email.to[0], 'to0@postroom.test');
  assert.equal(email.to[99], 'to99@postroom.test');
  assert.equal(email.toCount, 3000);
  assert.equal(email.cc.length, 100);
  assert.equal(email.ccCount, 150);
});

it('adds no count when every recipient is listed', async () => {
  const { email } = await split(mime('From: a@postroom.test', `To: ${addresses(100, 'to')}`, 'Subject: some', '', 'hello', ''), store.content);
  assert.equal(email.to.length, 100);
  assert.equal('toCount' in email, false);
  assert.equal('ccCount' in email, false);
});
