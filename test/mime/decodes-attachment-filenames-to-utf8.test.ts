import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mime, split, type TempStore, tempStore } from './mime-test-kit.ts';

/** One email with one base64 attachment ("QUJD" = "ABC") per header block, in order. */
function withAttachments(...headerBlocks: string[][]): string {
  const parts = headerBlocks.map((lines) => mime('--B', ...lines, 'Content-Transfer-Encoding: base64', '', 'QUJD'));
  return mime(
    'From: a@postroom.test',
    'Subject: names',
    'Content-Type: multipart/mixed; boundary="B"',
    '',
    '--B',
    'Content-Type: text/plain',
    '',
    'body',
    ...parts,
    '--B--',
    '',
  );
}

describe('decodes attachment filenames to UTF-8', () => {
  let store: TempStore;
  before(async () => {
    store = await tempStore();
  });
  after(() => store.dispose());

  const cases: Array<[string, string[], string]> = [
    ['RFC 2047 B word, quoted', ['Content-Type: application/octet-stream; name="=?UTF-8?B?w6TDtsO8LnR4dA==?="'], 'äöü.txt'],
    [
      'RFC 2047 Q word, unquoted',
      ['Content-Type: application/pdf', 'Content-Disposition: attachment; filename==?UTF-8?Q?r=C3=A9sum=C3=A9.pdf?='],
      'résumé.pdf',
    ],
    [
      'RFC 2047 split over several words',
      ['Content-Type: application/pdf', 'Content-Disposition: attachment;', ' filename="=?UTF-8?Q?caf=C3=A9?=', ' =?UTF-8?Q?_menu?= =?UTF-8?B?LnBkZg==?="'],
      'café menu.pdf',
    ],
    ['RFC 2047 ISO-8859-1 word', ['Content-Type: text/plain', 'Content-Disposition: attachment; filename="=?ISO-8859-1?Q?=C5ngstr=F6m.txt?="'], 'Ångström.txt'],
    [
      'RFC 2047 Windows-1252 word',
      ['Content-Type: text/plain', 'Content-Disposition: attachment; filename="=?windows-1252?Q?=93quoted=94.txt?="'],
      '“quoted”.txt',
    ],
    ['RFC 2231 UTF-8', ['Content-Type: application/pdf', "Content-Disposition: attachment; filename*=utf-8''%E2%82%AC%20rate.pdf"], '€ rate.pdf'],
    ['RFC 2231 ISO-8859-1', ['Content-Type: application/pdf', "Content-Disposition: attachment; filename*=iso-8859-1'fr'r%E9sum%E9.pdf"], 'résumé.pdf'],
    [
      'RFC 2231 continuations, encoded and plain',
      [
        'Content-Type: application/pdf',
        'Content-Disposition: attachment;',
        " filename*0*=utf-8''%E6%97%A5%E6%9C%AC;",
        ' filename*1*=%E8%AA%9E;',
        ' filename*2=".pdf"',
      ],
      '日本語.pdf',
    ],
    ['RFC 2231 continuations in the Content-Type name', ["Content-Type: application/pdf; name*0*=iso-8859-1''Stra%DF; name*1*=e.pdf"], 'Straße.pdf'],
    ['raw UTF-8 in the header (RFC 6532)', ['Content-Type: application/pdf', 'Content-Disposition: attachment; filename="naïve.pdf"'], 'naïve.pdf'],
    [
      'Content-Disposition filename wins over Content-Type name',
      ['Content-Type: application/pdf; name="a.pdf"', 'Content-Disposition: attachment; filename="b.pdf"'],
      'b.pdf',
    ],
    ['path separators cannot climb out', ['Content-Type: application/pdf', 'Content-Disposition: attachment; filename="../../etc/passwd"'], '.._.._etc_passwd'],
    ['control characters are dropped', ['Content-Type: application/pdf', "Content-Disposition: attachment; filename*=utf-8''a%00b%0A.pdf"], 'a_b_.pdf'],
  ];

  for (const [name, headers, expected] of cases) {
    test(name, async () => {
      const { parts } = await split(withAttachments(headers), store.content);
      const attachment = parts.find((part) => part.kind === 'attachment');
      assert.equal(attachment?.filename, expected);
      assert.equal(attachment?.size, 3);
    });
  }

  test('a missing name is made up from the content type, numbered by part index', async () => {
    const { parts } = await split(
      withAttachments(
        ['Content-Type: application/pdf'],
        ['Content-Type: image/png'],
        ['Content-Type: application/x-unknown-thing'],
        ['Content-Type: text/calendar'],
      ),
      store.content,
    );
    assert.deepEqual(
      parts.filter((part) => part.kind === 'attachment').map((part) => part.filename),
      ['attachment-1.pdf', 'attachment-2.png', 'attachment-3.bin', 'invite.ics'],
    );
  });

  test('a name that cleans up to nothing is made up too', async () => {
    const { parts } = await split(withAttachments(['Content-Type: application/pdf', 'Content-Disposition: attachment; filename="  "']), store.content);
    assert.equal(parts[1]?.filename, 'attachment-1.pdf');
  });
});
