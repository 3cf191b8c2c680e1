import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mime, split, type TempStore, tempStore } from './mime-test-kit.ts';

describe('fills the envelope email fields from the headers', () => {
  let store: TempStore;
  before(async () => {
    store = await tempStore();
  });
  after(() => store.dispose());

  test('message id, addresses, decoded subject and ISO date', async () => {
    const raw = mime(
      'From: =?UTF-8?Q?J=C3=B6rg_M=C3=BCller?= <joerg@postroom.test>',
      'To: one@postroom.test, "Two, Second" <two@postroom.test>,',
      ' Team: three@postroom.test, four@postroom.test;',
      'To: five@postroom.test',
      'Cc: Six <six@postroom.test>',
      'Subject: =?ISO-8859-1?Q?Gr=FC=DFe?= and =?UTF-8?B?5pel5pys?=',
      'Message-ID: <abc.123@postroom.test>',
      'Date: Tue, 1 Jul 2025 12:30:00 +0200 (CEST)',
      '',
      'body',
      '',
    );
    const { email } = await split(raw, store.content);
    assert.deepEqual(email, {
      messageId: '<abc.123@postroom.test>',
      from: '"Jörg Müller" <joerg@postroom.test>',
      to: ['one@postroom.test', '"Two, Second" <two@postroom.test>', 'three@postroom.test', 'four@postroom.test', 'five@postroom.test'],
      cc: ['"Six" <six@postroom.test>'],
      subject: 'Grüße and 日本',
      date: '2025-07-01T10:30:00.000Z',
    });
  });

  test('the Message-ID is kept as the header has it', async () => {
    const { email } = await split(mime('Message-ID:', ' no-brackets@postroom.test', '', 'x'), store.content);
    assert.equal(email.messageId, 'no-brackets@postroom.test');
  });

  test('missing or unreadable headers are null or empty, never made up', async () => {
    const { email } = await split(mime('Date: the day after tomorrow', '', 'x'), store.content);
    assert.deepEqual(email, { messageId: null, from: null, to: [], cc: [], subject: null, date: null });
  });
});
