import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mime, split, type TempStore, tempStore } from './mime-test-kit.ts';

function related(html: string, ...images: Array<[string, string]>): string {
  const parts = images.map(([name, contentId]) =>
    mime('--R', `Content-Type: image/png; name="${name}"`, `Content-ID: ${contentId}`, 'Content-Transfer-Encoding: base64', '', 'iVBORw0KGgo='),
  );
  return mime(
    'From: a@postroom.test',
    'Subject: cid',
    'Content-Type: multipart/related; boundary=R',
    '',
    '--R',
    'Content-Type: text/html',
    '',
    html,
    ...parts,
    '--R--',
    '',
  );
}

describe('marks inline images referenced by cid', () => {
  let store: TempStore;
  before(async () => {
    store = await tempStore();
  });
  after(() => store.dispose());

  test('an image the HTML shows is inline, with its Content-ID without angle brackets', async () => {
    const { parts } = await split(
      related('<img src="cid:logo@x.test"><img src=\'cid:unused\'>', ['logo.png', '<logo@x.test>'], ['other.png', '<other@x.test>']),
      store.content,
    );
    const attachments = parts.filter((part) => part.kind === 'attachment');
    assert.deepEqual(
      attachments.map((part) => [part.filename, part.inline, part.contentId, part.partIndex]),
      [
        ['logo.png', true, 'logo@x.test', 1],
        ['other.png', false, 'other@x.test', 2],
      ],
    );
  });

  test('a URL-encoded cid: reference (RFC 2392) matches too', async () => {
    const { parts } = await split(related('<img src="cid:logo%40x.test">', ['logo.png', '<logo@x.test>']), store.content);
    assert.equal(parts.find((part) => part.kind === 'attachment')?.inline, true);
  });

  test('inline images are still attachments, even when the body is not sent', async () => {
    const { parts } = await split(related('<img src="cid:logo@x.test">', ['logo.png', '<logo@x.test>']), store.content, { sendMessageBody: false });
    assert.deepEqual(
      parts.map((part) => [part.kind, part.inline]),
      [['attachment', true]],
    );
  });

  test('and are not emitted when attachments are off', async () => {
    const { parts } = await split(related('<img src="cid:logo@x.test">', ['logo.png', '<logo@x.test>']), store.content, { sendAttachments: false });
    assert.deepEqual(
      parts.map((part) => part.kind),
      ['body'],
    );
  });
});
