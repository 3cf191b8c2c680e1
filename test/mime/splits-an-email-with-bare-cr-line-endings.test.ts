/**
 * Emails written with bare CR line endings (classic Mac OS, some gateways) used to yield no part
 * at all, and were then acknowledged on the server: lost. A bare CR now ends a line where MIME
 * looks for one (headers, boundaries), and an email whose bytes yield no part is kept whole.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { BARE_CR_ATTACHMENT, BARE_CR_TEXT } from './bare-cr-emails.ts';
import { readPart, split, type TempStore, tempStore } from './mime-test-kit.ts';

let store: TempStore;
before(async () => {
  store = await tempStore();
});
after(async () => store?.dispose());

it('splits a text email with bare CR line endings into its body', async () => {
  const result = await split(BARE_CR_TEXT, store.content);
  assert.deepEqual(
    result.parts.map((part) => `${part.kind}:${part.filename}`),
    ['body:body.txt'],
  );
  assert.equal((await readPart(store.content, result.parts[0]!.contentRef)).toString('utf8'), 'first line\nsecond line\n');
  assert.equal(result.email.subject, 'bare CR text');
  assert.equal(result.email.messageId, '<bare-cr-text@postroom.test>');
});

it('splits an attachment email with bare CR line endings into its body and attachment', async () => {
  const result = await split(BARE_CR_ATTACHMENT, store.content);
  assert.deepEqual(
    result.parts.map((part) => `${part.kind}:${part.filename}`),
    ['body:body.txt', 'attachment:a.pdf'],
  );
  assert.deepEqual(await readPart(store.content, result.parts[1]!.contentRef), Buffer.from('ABCDEFGHI'));
});

it('splits the same bare CR email read one byte at a time (a CR at the end of a chunk)', async () => {
  const { splitEmail } = await import('../../src/mime/split-email.ts');
  const { Readable } = await import('node:stream');
  const bytes = Buffer.from(BARE_CR_ATTACHMENT);
  const oneByOne = (): InstanceType<typeof Readable> => Readable.from([...bytes].map((byte) => Buffer.from([byte])));
  const result = await splitEmail(oneByOne(), { sendMessageBody: true, sendAttachments: true, reopen: oneByOne }, store.content);
  assert.deepEqual(
    result.parts.map((part) => `${part.kind}:${part.filename}`),
    ['body:body.txt', 'attachment:a.pdf'],
  );
});

it('keeps whole an email whose header block never ends, rather than yielding nothing', async () => {
  // Line ends the parser does not know (here: form feeds) make the whole email one header.
  const raw = 'From: a@postroom.test\fSubject: odd\f\fthe body';
  const result = await split(raw, store.content);
  assert.deepEqual(
    result.parts.map((part) => part.kind),
    ['original'],
  );
  assert.deepEqual(await readPart(store.content, result.parts[0]!.contentRef), Buffer.from(raw));
});
