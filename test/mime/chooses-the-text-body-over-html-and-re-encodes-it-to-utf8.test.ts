import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mime, readPart, split, type TempStore, tempStore } from './mime-test-kit.ts';

const HEAD = ['From: a@postroom.test', 'Subject: body'];

describe('chooses the text body over HTML and re-encodes it to UTF-8', () => {
  let store: TempStore;
  before(async () => {
    store = await tempStore();
  });
  after(() => store.dispose());

  async function body(raw: string | Buffer): Promise<{ filename: string; contentType: string; text: string } | undefined> {
    const { parts } = await split(raw, store.content);
    const found = parts.filter((part) => part.kind === 'body');
    assert.ok(found.length <= 1, 'at most one body part');
    const [part] = found;
    if (!part) return undefined;
    assert.equal(part.partIndex, 0);
    return { filename: part.filename, contentType: part.contentType, text: (await readPart(store.content, part.contentRef)).toString('utf8') };
  }

  test('text/plain when present, even after the HTML', async () => {
    const raw = mime(
      ...HEAD,
      'Content-Type: multipart/alternative; boundary=A',
      '',
      '--A',
      'Content-Type: text/html',
      '',
      '<p>html</p>',
      '--A',
      'Content-Type: text/plain',
      '',
      'plain',
      '--A--',
      '',
    );
    assert.deepEqual(await body(raw), { filename: 'body.txt', contentType: 'text/plain; charset=utf-8', text: 'plain' });
  });

  test('HTML when there is no text/plain', async () => {
    const raw = mime(
      ...HEAD,
      'Content-Type: multipart/mixed; boundary=A',
      '',
      '--A',
      'Content-Type: text/html; charset=utf-8',
      '',
      '<p>only html</p>',
      '--A--',
      '',
    );
    assert.deepEqual(await body(raw), { filename: 'body.html', contentType: 'text/html; charset=utf-8', text: '<p>only html</p>' });
  });

  test('HTML when the text/plain rendering is empty', async () => {
    const raw = mime(
      ...HEAD,
      'Content-Type: multipart/alternative; boundary=A',
      '',
      '--A',
      'Content-Type: text/plain',
      '',
      '',
      '--A',
      'Content-Type: text/html',
      '',
      '<p>x</p>',
      '--A--',
      '',
    );
    assert.equal((await body(raw))?.filename, 'body.html');
  });

  test('an email without Content-Type is text/plain (RFC 2045 default)', async () => {
    assert.deepEqual(await body(mime(...HEAD, '', 'no type', '')), { filename: 'body.txt', contentType: 'text/plain; charset=utf-8', text: 'no type\n' });
  });

  const charsets: Array<[string, Buffer, string]> = [
    ['ISO-8859-1', Buffer.from('Gr\xfc\xdfe', 'latin1'), 'Grüße'],
    ['windows-1252', Buffer.from([0x93, 0x71, 0x94, 0x20, 0x80]), '“q” €'],
    ['ISO-8859-15', Buffer.from([0xa4]), '€'],
    ['KOI8-R', Buffer.from([0xf0, 0xd2, 0xc9, 0xd7, 0xc5, 0xd4]), 'Привет'],
    ['Shift_JIS', Buffer.from('93fa967b8cea', 'hex'), '日本語'],
    ['ISO-2022-JP', Buffer.from('1b2442467c4b5c386c1b2842', 'hex'), '日本語'],
    ['GB2312', Buffer.from('c4e3bac3', 'hex'), '你好'],
    ['UTF-16LE', Buffer.from('hi', 'utf16le'), 'hi'],
  ];
  for (const [charset, bytes, expected] of charsets) {
    test(`${charset} body becomes UTF-8`, async () => {
      const raw = Buffer.concat([
        Buffer.from(mime(...HEAD, `Content-Type: text/plain; charset="${charset}"`, 'Content-Transfer-Encoding: base64', '', bytes.toString('base64'), '')),
      ]);
      assert.equal((await body(raw))?.text, expected);
    });
  }

  test('CRLF line endings become LF, quoted-printable is decoded', async () => {
    const raw = mime(
      ...HEAD,
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'line one=',
      ' continued',
      'caf=C3=A9',
      '',
    );
    assert.equal((await body(raw))?.text, 'line one continued\ncafé\n');
  });

  test('format=flowed text is unwrapped (RFC 3676)', async () => {
    const raw = mime(...HEAD, 'Content-Type: text/plain; charset=utf-8; format=flowed', '', 'a soft ', 'wrapped line', 'hard', 'end');
    assert.equal((await body(raw))?.text, 'a soft wrapped line\nhard\nend');
  });
});
