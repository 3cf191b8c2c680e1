/**
 * An email can carry thousands of tiny parts (a 311 KB winmail.dat became 4,002 pipeline
 * messages). At most maxPartsPerEmail parts are split out, the body and TNEF children counted;
 * the rest are not, and the whole email goes along as an 'original' that says why, so nothing
 * is lost.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { DEFAULT_MAX_PARTS_PER_EMAIL, type SplitResult } from '../../src/mime/split-email.ts';
import { sha256 } from '../support/corpus.ts';
import { mime, readPart, split, type TempStore, tempStore } from './mime-test-kit.ts';

function withAttachments(count: number, tnef?: Buffer): string {
  const attachments = Array.from({ length: count }, (_, index) =>
    mime('--B', `Content-Type: application/octet-stream; name="f${index + 1}.bin"`, 'Content-Disposition: attachment', '', `file ${index + 1}`),
  );
  const winmail = tnef
    ? [mime('--B', 'Content-Type: application/ms-tnef; name="winmail.dat"', 'Content-Transfer-Encoding: base64', '', tnef.toString('base64'))]
    : [];
  return mime(
    'From: a@postroom.test',
    'Subject: many parts',
    'Content-Type: multipart/mixed; boundary="B"',
    '',
    '--B',
    'Content-Type: text/plain',
    '',
    'hello',
    ...attachments,
    ...winmail,
    '--B--',
    '',
  );
}

function record(level: number, id: number, data: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUInt8(level, 0);
  head.writeUInt32LE(id, 1);
  head.writeUInt32LE(data.length, 5);
  const sum = Buffer.alloc(2);
  sum.writeUInt16LE(
    data.reduce((total, byte) => (total + byte) & 0xffff, 0),
    0,
  );
  return Buffer.concat([head, data, sum]);
}

function winmailWith(files: number): Buffer {
  const start = Buffer.alloc(6);
  start.writeUInt32LE(0x223e9f78, 0);
  const records: Buffer[] = [start];
  for (let index = 1; index <= files; index += 1) {
    records.push(
      record(2, 0x00069002, Buffer.alloc(14)),
      record(2, 0x00018010, Buffer.from(`t${index}.txt\u0000`, 'latin1')),
      record(2, 0x0006800f, Buffer.from(`inside ${index}`)),
    );
  }
  return Buffer.concat(records);
}

async function assertOriginalAlongside(result: SplitResult, raw: string): Promise<void> {
  const original = result.parts.at(-1)!;
  assert.equal(original.kind, 'original');
  assert.match(original.parseError ?? '', /maxPartsPerEmail/);
  assert.equal(original.sha256, sha256(Buffer.from(raw)));
  assert.deepEqual(await readPart(store.content, original.contentRef), Buffer.from(raw));
  const indexes = result.parts.map((part) => part.partIndex);
  assert.equal(new Set(indexes).size, indexes.length, 'the original has a part index (so a pipeline message id) of its own');
}

let store: TempStore;
before(async () => {
  store = await tempStore();
});
after(async () => store?.dispose());

it('splits out the first maxParts parts, body included, and keeps the whole email as well', async () => {
  const raw = withAttachments(10);
  const result = await split(raw, store.content, { maxParts: 5 });
  assert.deepEqual(
    result.parts.map((part) => part.filename),
    ['body.txt', 'f1.bin', 'f2.bin', 'f3.bin', 'f4.bin', 'original.eml'],
  );
  await assertOriginalAlongside(result, raw);
});

it('counts the files inside a winmail.dat towards the cap', async () => {
  const raw = withAttachments(1, winmailWith(20));
  const result = await split(raw, store.content, { maxParts: 6 });
  assert.deepEqual(
    result.parts.map((part) => part.filename),
    ['body.txt', 'f1.bin', 'winmail.dat', 't1.txt', 't2.txt', 't3.txt', 'original.eml'],
  );
  await assertOriginalAlongside(result, raw);
});

it(`caps an email at ${DEFAULT_MAX_PARTS_PER_EMAIL} parts unless the connection says otherwise`, async () => {
  const raw = withAttachments(0, winmailWith(800));
  const result = await split(raw, store.content);
  assert.equal(result.parts.length, DEFAULT_MAX_PARTS_PER_EMAIL + 1);
  await assertOriginalAlongside(result, raw);
});

it('keeps no extra original when the email is within the cap', async () => {
  const result = await split(withAttachments(3), store.content, { maxParts: 4 });
  assert.deepEqual(
    result.parts.map((part) => part.kind),
    ['body', 'attachment', 'attachment', 'attachment'],
  );
});
