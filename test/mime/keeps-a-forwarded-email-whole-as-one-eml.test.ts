import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mime, readPart, split, type TempStore, tempStore } from './mime-test-kit.ts';

const INNER = mime(
  'From: b@postroom.test',
  'Subject: =?UTF-8?Q?Rapport_=C3=A9t=C3=A9?=',
  'Content-Type: multipart/mixed; boundary=I',
  '',
  '--I',
  'Content-Type: text/plain',
  '',
  'inner text',
  '--I',
  'Content-Type: application/pdf; name="inner.pdf"',
  'Content-Transfer-Encoding: base64',
  '',
  'QUJD',
  '--I--',
  '',
);

function forwarding(headers: string[], body: string): string {
  return mime(
    'From: a@postroom.test',
    'Subject: fwd',
    'Content-Type: multipart/mixed; boundary=O',
    '',
    '--O',
    'Content-Type: text/plain',
    '',
    'see attached',
    '--O',
    ...headers,
    '',
    body,
    '--O--',
    '',
  );
}

describe('keeps a forwarded email whole as one .eml', () => {
  let store: TempStore;
  before(async () => {
    store = await tempStore();
  });
  after(() => store.dispose());

  for (const disposition of ['attachment', 'inline']) {
    test(`message/rfc822 (${disposition}) is one attachment, byte for byte; its own parts are not split out`, async () => {
      const { parts } = await split(forwarding(['Content-Type: message/rfc822', `Content-Disposition: ${disposition}`], INNER), store.content);
      assert.deepEqual(
        parts.map((part) => [part.kind, part.filename, part.contentType]),
        [
          ['body', 'body.txt', 'text/plain; charset=utf-8'],
          ['attachment', 'Rapport été.eml', 'message/rfc822'],
        ],
      );
      assert.equal((await readPart(store.content, parts[1]?.contentRef ?? '')).toString('utf8'), INNER);
      assert.equal((await readPart(store.content, parts[0]?.contentRef ?? '')).toString('utf8'), 'see attached');
    });
  }

  test('a base64-encoded forwarded email is decoded', async () => {
    const { parts } = await split(
      forwarding(['Content-Type: message/rfc822', 'Content-Transfer-Encoding: base64'], Buffer.from(INNER).toString('base64').replace(/.{76}/g, '$&\r\n')),
      store.content,
    );
    assert.equal((await readPart(store.content, parts[1]?.contentRef ?? '')).toString('utf8'), INNER);
  });

  test('no subject: attached-<n>.eml; a file name of its own wins', async () => {
    const bare = mime('From: b@postroom.test', '', 'no subject here', '');
    const noSubject = await split(forwarding(['Content-Type: message/rfc822'], bare), store.content);
    assert.equal(noSubject.parts[1]?.filename, 'attached-1.eml');
    const named = await split(forwarding(['Content-Type: message/rfc822; name="original message.eml"'], INNER), store.content);
    assert.equal(named.parts[1]?.filename, 'original message.eml');
  });

  test('a subject with path separators still names a plain file', async () => {
    const inner = mime('Subject: Re: a/b\\c <urgent>?', '', 'x', '');
    const { parts } = await split(forwarding(['Content-Type: message/rfc822'], inner), store.content);
    assert.equal(parts[1]?.filename, 'Re_ a_b_c _urgent__.eml');
  });
});
