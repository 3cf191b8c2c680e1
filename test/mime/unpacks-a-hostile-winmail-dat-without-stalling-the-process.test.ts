/**
 * A winmail.dat is hostile input: counts and lengths inside it come from the sender. One whose
 * MAPI property claims 2^32-1 fixed-size values in a few bytes used to spin a loop for about a
 * minute, synchronously, stopping polls, deliveries, the API and lease renewals. Now counts are
 * checked against the bytes actually there, and unpacking yields to the event loop every few
 * milliseconds; the email is still delivered whole (winmail.dat itself, as it came).
 */
import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { after, before, it } from 'node:test';
import { type SplitResult, splitEmail } from '../../src/mime/split-email.ts';
import { base64Lines, pseudoRandomBytes, sha256 } from '../support/corpus.ts';
import { ALL_ON, mime, readPart, type TempStore, tempStore } from './mime-test-kit.ts';

/** The engine reads a raw email from the content store in chunks of this size, not in one piece. */
const READ_CHUNK_BYTES = 64 * 1024;

function chunked(raw: Buffer): Readable {
  const chunks = [];
  for (let at = 0; at < raw.length; at += READ_CHUNK_BYTES) chunks.push(raw.subarray(at, at + READ_CHUNK_BYTES));
  return Readable.from(chunks);
}

function split(raw: Buffer, content: TempStore['content']): Promise<SplitResult> {
  return splitEmail(chunked(raw), { ...ALL_ON, reopen: () => chunked(raw) }, content);
}

/** The longest the event loop may stand still while the email is split: far above a few ms of work, far below a stall. */
const MAX_EVENT_LOOP_GAP_MS = 200;

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

/** attAttachment with one multi-valued PT_LONG property (PR_ATTACH_NUM) claiming 0xFFFFFFFF values, and 8 bytes of them. */
function hostileMapiBlock(): Buffer {
  const block = Buffer.alloc(4 + 4 + 4 + 8);
  block.writeUInt32LE(1, 0); // one property
  block.writeUInt16LE(0x1003, 4); // PT_MV_LONG
  block.writeUInt16LE(0x0e21, 6); // PR_ATTACH_NUM
  block.writeUInt32LE(0xffffffff, 8); // the value count
  return block;
}

function hostileWinmailDat(data: Buffer): Buffer {
  const start = Buffer.alloc(6);
  start.writeUInt32LE(0x223e9f78, 0);
  start.writeUInt16LE(0x0001, 4);
  return Buffer.concat([
    start,
    record(2, 0x00069002, Buffer.alloc(14)),
    record(2, 0x00018010, Buffer.from('inside.bin\u0000', 'latin1')),
    record(2, 0x0006800f, data),
    record(2, 0x00069005, hostileMapiBlock()),
  ]);
}

function emailWith(...attachments: Buffer[]): string {
  return mime(
    'From: Outlook <outlook@example.com>',
    'To: orders@example.com',
    'Subject: hostile winmail.dat',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'See attached.',
    ...attachments.flatMap((attachment) => [
      '--b1',
      'Content-Type: application/ms-tnef; name="winmail.dat"',
      'Content-Transfer-Encoding: base64',
      'Content-Disposition: attachment; filename="winmail.dat"',
      '',
      base64Lines(attachment),
    ]),
    '--b1--',
    '',
  );
}

/** Runs `work` while a histogram records how long the event loop stood still at most. */
async function largestGapMs<T>(work: () => Promise<T>): Promise<{ result: T; gapMs: number }> {
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  try {
    const result = await work();
    return { result, gapMs: delay.max / 1e6 };
  } finally {
    delay.disable();
  }
}

let store: TempStore;
before(async () => {
  store = await tempStore();
});
after(async () => store?.dispose());

it('splits an email with a winmail.dat claiming 2^32-1 values without holding the event loop, and delivers it', async () => {
  const inside = pseudoRandomBytes(300, 'hostile-inside');
  const tnef = hostileWinmailDat(inside);
  const raw = Buffer.from(emailWith(tnef));
  const { result, gapMs } = await largestGapMs(() => split(raw, store.content));
  assert.ok(gapMs < MAX_EVENT_LOOP_GAP_MS, `the event loop stood still for ${gapMs.toFixed(0)} ms`);
  assert.deepEqual(
    result.parts.map((part) => [part.kind, part.filename]),
    [
      ['body', 'body.txt'],
      ['attachment', 'winmail.dat'],
      ['attachment', 'inside.bin'],
    ],
  );
  assert.equal(result.parts[1]!.sha256, sha256(tnef), 'winmail.dat itself is delivered as it came');
  assert.deepEqual(await readPart(store.content, result.parts[2]!.contentRef), inside);
});

it('splits an email with several such winmail.dat attachments, each delivered', async () => {
  const tnefs = [0, 1, 2, 3].map((n) => hostileWinmailDat(pseudoRandomBytes(200 + n, `hostile-${n}`)));
  const raw = Buffer.from(emailWith(...tnefs));
  const { result, gapMs } = await largestGapMs(() => split(raw, store.content));
  assert.ok(gapMs < MAX_EVENT_LOOP_GAP_MS, `the event loop stood still for ${gapMs.toFixed(0)} ms`);
  const winmails = result.parts.filter((part) => part.filename === 'winmail.dat');
  assert.deepEqual(
    winmails.map((part) => part.sha256),
    tnefs.map(sha256),
  );
  assert.equal(result.parts.filter((part) => part.filename === 'inside.bin').length, 4);
});

it('reads a large winmail.dat (20 MB inside) without holding the event loop for long', async () => {
  const inside = pseudoRandomBytes(20 * 1024 * 1024, 'large-inside');
  const start = Buffer.alloc(6);
  start.writeUInt32LE(0x223e9f78, 0);
  const tnef = Buffer.concat([
    start,
    record(2, 0x00069002, Buffer.alloc(14)),
    record(2, 0x00018010, Buffer.from('big.bin\u0000', 'latin1')),
    record(2, 0x0006800f, inside),
  ]);
  const raw = Buffer.from(emailWith(tnef));
  const { result, gapMs } = await largestGapMs(() => split(raw, store.content));
  assert.ok(gapMs < MAX_EVENT_LOOP_GAP_MS, `the event loop stood still for ${gapMs.toFixed(0)} ms`);
  assert.equal(result.parts.find((part) => part.filename === 'big.bin')?.sha256, sha256(inside));
});
