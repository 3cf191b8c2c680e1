/**
 * Child process of holds-a-huge-one-line-body-without-copying-it-in-memory.test.ts: writes an
 * email whose body is one HTML line of argv[2] bytes to a file, splits it from that file as the
 * engine does (reopen, the raw size known), and prints one JSON line: the process's peak
 * resident memory (VmHWM), and the body part's size and sha256. A child, so the test runner's
 * own memory does not blur the measurement.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { splitEmail } from '../../src/mime/split-email.ts';
import { readPart, tempStore } from './mime-test-kit.ts';

export interface MeasuredSplit {
  peakRssBytes: number;
  parts: Array<{ kind: string; filename: string; size: number; sha256: string }>;
  /** sha256 of the body's UTF-8 text as the sender wrote it (the HTML line, CRLF ending as LF). */
  expectedBodySha256: string;
}

const bodyBytes = Number(process.argv[2]);
const store = await tempStore();
const file = join(store.dir, 'huge.eml');
const line = Buffer.alloc(1024 * 1024, 'abcdefghij<b>x</b>'.repeat(8));
const head = Buffer.from(
  'From: a@example.com\r\nTo: b@example.com\r\nSubject: huge\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html>',
);
const hash = createHash('sha256').update('<html>');
const out = createWriteStream(file);
out.write(head);
for (let written = 0; written < bodyBytes; written += line.length) {
  const piece = line.subarray(0, Math.min(line.length, bodyBytes - written));
  hash.update(piece);
  if (!out.write(piece)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
}
out.end('</html>\r\n');
hash.update('</html>\n');
await new Promise<void>((resolve) => out.once('finish', () => resolve()));

const size = (await stat(file)).size;
const result = await splitEmail(
  createReadStream(file),
  { sendMessageBody: true, sendAttachments: true, size, reopen: () => createReadStream(file) },
  store.content,
);
const status = await readFile('/proc/self/status', 'utf8');
const peakKb = Number(/^VmHWM:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? 'NaN');
const parts = [];
for (const part of result.parts) {
  const sha256 = createHash('sha256')
    .update(await readPart(store.content, part.contentRef))
    .digest('hex');
  parts.push({ kind: part.kind, filename: part.filename, size: part.size, sha256 });
}
const measured: MeasuredSplit = { peakRssBytes: peakKb * 1024, parts, expectedBodySha256: hash.digest('hex') };
await store.dispose();
process.stdout.write(`${JSON.stringify(measured)}\n`);
