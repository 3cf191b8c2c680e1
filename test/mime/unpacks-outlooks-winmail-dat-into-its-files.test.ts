import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { base64Lines, pseudoRandomBytes, sha256 } from '../support/corpus.ts';
import { mime, readPart, split, type TempStore, tempStore } from './mime-test-kit.ts';

/** One TNEF record (MS-OXTNEF 2.1.3.3): level, id, length, data, checksum. */
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

/** An attAttachment MAPI block with PR_ATTACH_NUM (PT_LONG) then PR_ATTACH_LONG_FILENAME (PT_UNICODE). */
function longNameBlock(name: string): Buffer {
  const text = Buffer.from(`${name}\u0000`, 'utf16le');
  const pad = Buffer.alloc((4 - (text.length % 4)) % 4);
  const count = Buffer.alloc(4);
  count.writeUInt32LE(2, 0);
  const attachNum = Buffer.from([0x03, 0x00, 0x21, 0x0e, 0x01, 0x00, 0x00, 0x00]);
  const header = Buffer.from([0x1f, 0x00, 0x07, 0x37]);
  const sizes = Buffer.alloc(8);
  sizes.writeUInt32LE(1, 0);
  sizes.writeUInt32LE(text.length, 4);
  return Buffer.concat([count, attachNum, header, sizes, text, pad]);
}

function winmailDat(files: Array<{ title: string; longName?: string; data: Buffer }>): Buffer {
  const start = Buffer.alloc(6);
  start.writeUInt32LE(0x223e9f78, 0);
  start.writeUInt16LE(0x0001, 4);
  const version = Buffer.alloc(4);
  version.writeUInt32LE(0x00010000, 0);
  const records = [start, record(1, 0x00089006, version)];
  for (const file of files) {
    records.push(record(2, 0x00069002, Buffer.alloc(14)));
    records.push(record(2, 0x00018010, Buffer.from(`${file.title}\u0000`, 'latin1')));
    records.push(record(2, 0x0006800f, file.data));
    if (file.longName) records.push(record(2, 0x00069005, longNameBlock(file.longName)));
  }
  return Buffer.concat(records);
}

function emailWith(attachment: Buffer): string {
  return mime(
    'From: Outlook <outlook@example.com>',
    'To: orders@example.com',
    'Subject: Invoice from Outlook',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'See attached.',
    '--b1',
    'Content-Type: application/ms-tnef; name="winmail.dat"',
    'Content-Transfer-Encoding: base64',
    'Content-Disposition: attachment; filename="winmail.dat"',
    '',
    base64Lines(attachment),
    '--b1--',
    '',
  );
}

let store: TempStore;
before(async () => {
  store = await tempStore();
});
after(async () => store?.dispose());

it('emits every file inside winmail.dat as its own attachment, byte-exact, with its long name, and keeps winmail.dat too', async () => {
  const pdf = pseudoRandomBytes(150_000, 'tnef-pdf');
  const csv = Buffer.from('sku;qty\r\nA-1;3\r\n', 'latin1');
  const tnef = winmailDat([
    { title: 'RECHNU~1.PDF', longName: 'Rechnung März 2026.pdf', data: pdf },
    { title: 'order.csv', data: csv },
  ]);
  const { parts } = await split(emailWith(tnef), store.content);
  assert.deepEqual(
    parts.map((p) => [p.kind, p.filename]),
    [
      ['body', 'body.txt'],
      ['attachment', 'winmail.dat'],
      ['attachment', 'Rechnung März 2026.pdf'],
      ['attachment', 'order.csv'],
    ],
  );
  assert.equal(parts[1]!.sha256, sha256(tnef), 'winmail.dat itself is kept, byte-exact');
  assert.equal(parts[2]!.sha256, sha256(pdf));
  assert.ok((await readPart(store.content, parts[2]!.contentRef)).equals(pdf));
  assert.equal(parts[2]!.contentType, 'application/pdf');
  assert.equal(parts[3]!.sha256, sha256(csv));
  const indexes = parts.map((p) => p.partIndex);
  assert.equal(new Set(indexes).size, indexes.length, 'every part has its own index, so its own pipeline message id');
});

it('keeps a winmail.dat it cannot read whole, and loses nothing', async () => {
  const broken = winmailDat([{ title: 'a.bin', data: pseudoRandomBytes(5000, 'x') }]);
  broken.writeUInt8(broken.readUInt8(broken.length - 1) ^ 0xff, broken.length - 1); // a bad checksum
  const { parts } = await split(emailWith(broken), store.content);
  assert.deepEqual(
    parts.map((p) => p.filename),
    ['body.txt', 'winmail.dat'],
  );
  assert.equal(parts[1]!.sha256, sha256(broken));
});
