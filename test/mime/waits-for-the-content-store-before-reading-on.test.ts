/**
 * Backpressure: while the content store is busy with an attachment, the parser must stop
 * reading the raw email, or a slow disk would let the whole email pile up in memory.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { splitEmail } from '../../src/mime/split-email.ts';
import type { ContentStore } from '../../src/model/content-store.ts';
import { largeAttachmentEmail, largeAttachmentSha256 } from '../support/corpus.ts';

const ATTACHMENT_BYTES = 16 * 1024 * 1024;
/** Stream buffers along the way (raw, splitter, decoder, store) add up to well under this. */
const MAX_READ_AHEAD_BYTES = 4 * 1024 * 1024;
/** base64 carries 3 bytes in 4 characters, plus CRLF every 76. */
const BASE64_RAW_PER_BYTE = 78 / 57;
/** The slow store takes 1 ms per 16 KiB: about 1 s for the attachment, several times slower than parsing it. */
const STORE_BYTES_PER_MS = 16 * 1024;

test('waits for the content store before reading on', { timeout: 120_000 }, async () => {
  let rawRead = 0;
  /** Per write: how far the raw email was read ahead of what that write had received. */
  const readAhead = new Map<number, number>();
  const counting = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      rawRead += chunk.length;
      callback(null, chunk);
    },
  });
  const slowStore: ContentStore = {
    async write(source) {
      const hash = createHash('sha256');
      let size = 0;
      let maxReadAhead = 0;
      for await (const chunk of source as AsyncIterable<Buffer>) {
        hash.update(chunk);
        size += chunk.length;
        maxReadAhead = Math.max(maxReadAhead, rawRead - size * BASE64_RAW_PER_BYTE);
        await sleep(Math.ceil(chunk.length / STORE_BYTES_PER_MS));
      }
      readAhead.set(size, maxReadAhead);
      return { ref: `ref-${size}`, size, sha256: hash.digest('hex') };
    },
    makeDurable: async () => {},
    open: () => Readable.from([]),
    remove: async () => {},
  };

  const raw = largeAttachmentEmail(ATTACHMENT_BYTES).pipe(counting);
  const { parts } = await splitEmail(raw, { sendMessageBody: true, sendAttachments: true, reopen: () => Readable.from([]) }, slowStore);

  const attachment = parts.find((part) => part.kind === 'attachment');
  assert.equal(attachment?.sha256, largeAttachmentSha256(ATTACHMENT_BYTES));
  // Only the attachment is written while the raw email is being read; the body comes after.
  const ahead = readAhead.get(ATTACHMENT_BYTES) ?? Infinity;
  assert.ok(ahead < MAX_READ_AHEAD_BYTES, `read ${(ahead / 2 ** 20).toFixed(1)} MB ahead of the store`);
});
