/**
 * Bad input never crashes and never loses the email. What each kind of damage becomes:
 *
 * | damage                                           | outcome                                         |
 * |--------------------------------------------------|-------------------------------------------------|
 * | missing closing boundary                         | split: every part delivered                     |
 * | cut off in the middle of a base64 attachment      | split: the attachment holds what was decodable  |
 * | invalid characters in base64                      | split: the invalid characters are skipped       |
 * | base64 body that decodes to nothing               | original (nothing found in a non-empty email)   |
 * | a header block over 1 MiB (huge header lines)     | original                                        |
 * | more than 1,000 MIME parts                        | original                                        |
 * | unknown charset                                   | split: decoded as UTF-8, bad bytes become U+FFFD |
 * | UTF-7 charset (refused: it can smuggle markup)    | split: the body stays undecoded                 |
 * | NUL bytes                                         | split: kept in content, `_` in file names       |
 * | bare LF line endings                              | split                                           |
 * | multipart without a boundary parameter            | original                                        |
 * | bytes that are not an email                       | original                                        |
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type SplitPart, type SplitResult, splitEmail } from '../../src/mime/split-email.ts';
import { TEXT_IN_MEMORY_BYTES } from '../../src/mime/streamed-text.ts';
import type { ContentStore } from '../../src/model/content-store.ts';
import { ALL_ON, mime, readPart, split, type TempStore, tempStore, toBuffer } from './mime-test-kit.ts';

const HEAD = ['From: "Sender" <sender@postroom.test>', 'To: receiver@postroom.test', 'Subject: damaged', 'Message-ID: <damaged@postroom.test>'];

function mixed(...parts: string[]): string {
  return mime(...HEAD, 'Content-Type: multipart/mixed; boundary="B"', '', ...parts);
}

const TEXT_PART = mime('--B', 'Content-Type: text/plain; charset=utf-8', '', 'hello');

function kinds(result: SplitResult): string[] {
  return result.parts.map((part) => `${part.kind}:${part.filename}`);
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function assertKeptWhole(store: TempStore, raw: Buffer | string, result: SplitResult): Promise<SplitPart> {
  assert.equal(result.parts.length, 1, JSON.stringify(kinds(result)));
  const [original] = result.parts as [SplitPart];
  assert.equal(original.kind, 'original');
  assert.equal(original.partIndex, 0);
  assert.equal(original.filename, 'original.eml');
  assert.equal(original.contentType, 'message/rfc822');
  assert.ok(original.parseError, 'says why');
  assert.equal(original.sha256, sha256(toBuffer(raw)));
  assert.deepEqual(await readPart(store.content, original.contentRef), toBuffer(raw));
  return original;
}

describe('keeps a malformed email as the original', () => {
  let store: TempStore;
  before(async () => {
    store = await tempStore();
  });
  after(() => store.dispose());

  describe('damage the parser reads past is split as well as possible', () => {
    test('missing closing boundary', async () => {
      const raw = mixed(TEXT_PART, '--B', 'Content-Type: application/pdf; name="a.pdf"', 'Content-Transfer-Encoding: base64', '', 'QUJDREVG', '');
      const result = await split(raw, store.content);
      assert.deepEqual(kinds(result), ['body:body.txt', 'attachment:a.pdf']);
      assert.equal(result.parts[1]?.size, 6);
    });

    test('cut off in the middle of a base64 attachment', async () => {
      const raw = mixed(TEXT_PART, '--B', 'Content-Type: application/pdf; name="a.pdf"', 'Content-Transfer-Encoding: base64', '', 'QUJDREVGR0hJ', 'SktM');
      const result = await split(raw.slice(0, -2), store.content);
      assert.deepEqual(kinds(result), ['body:body.txt', 'attachment:a.pdf']);
      assert.deepEqual(await readPart(store.content, result.parts[1]?.contentRef ?? ''), Buffer.from('ABCDEFGHIJ'));
    });

    test('invalid characters in base64', async () => {
      const raw = mixed(TEXT_PART, '--B', 'Content-Type: application/pdf; name="a.pdf"', 'Content-Transfer-Encoding: base64', '', 'QU*JD$RE!VG', '--B--', '');
      const result = await split(raw, store.content);
      assert.deepEqual(kinds(result), ['body:body.txt', 'attachment:a.pdf']);
      assert.deepEqual(await readPart(store.content, result.parts[1]?.contentRef ?? ''), Buffer.from('ABCDEF'));
    });

    test('unknown charset: decoded as UTF-8, undecodable bytes become U+FFFD', async () => {
      const raw = Buffer.concat([
        Buffer.from(mime(...HEAD, 'Content-Type: text/plain; charset=x-no-such-charset', '', 'caf')),
        Buffer.from([0xe9, 0x0d, 0x0a]),
      ]);
      const result = await split(raw, store.content);
      assert.deepEqual(kinds(result), ['body:body.txt']);
      assert.equal((await readPart(store.content, result.parts[0]?.contentRef ?? '')).toString('utf8'), 'caf\ufffd\n');
    });

    test('a refused charset (UTF-7, which could smuggle markup) stays undecoded', async () => {
      const result = await split(mime(...HEAD, 'Content-Type: text/plain; charset=utf-7', '', '+ADw-script+AD4-', ''), store.content);
      assert.equal((await readPart(store.content, result.parts[0]?.contentRef ?? '')).toString('utf8'), '+ADw-script+AD4-\n');
    });

    test('NUL bytes: kept in the content, replaced in the file name', async () => {
      const raw = Buffer.concat([
        Buffer.from(mixed('--B', 'Content-Type: text/plain', '', 'he\u0000llo', '--B', 'Content-Type: application/octet-stream; name="x\u0000y.bin"', '', '')),
        Buffer.from([0, 1, 0, 2]),
        Buffer.from('\r\n--B--\r\n'),
      ]);
      const result = await split(raw, store.content);
      assert.deepEqual(kinds(result), ['body:body.txt', 'attachment:x_y.bin']);
      assert.equal((await readPart(store.content, result.parts[0]?.contentRef ?? '')).toString('utf8'), 'he\u0000llo');
      assert.deepEqual(await readPart(store.content, result.parts[1]?.contentRef ?? ''), Buffer.from([0, 1, 0, 2]));
    });

    test('bare LF line endings', async () => {
      const raw = mixed(TEXT_PART, '--B', 'Content-Type: application/pdf; name="a.pdf"', 'Content-Transfer-Encoding: base64', '', 'QUJD', '--B--', '').replace(
        /\r\n/g,
        '\n',
      );
      assert.deepEqual(kinds(await split(raw, store.content)), ['body:body.txt', 'attachment:a.pdf']);
    });
  });

  describe('damage the parser cannot read past keeps the email whole', () => {
    test('a header line over 1 MiB', async () => {
      const raw = mime(...HEAD, `X-Huge: ${'a'.repeat(2 * 1024 * 1024)}`, 'Content-Type: text/plain', '', 'hello', '');
      await assertKeptWhole(store, raw, await split(raw, store.content));
    });

    test('a base64 body that decodes to nothing', async () => {
      const raw = mime(...HEAD, 'Content-Type: text/plain', 'Content-Transfer-Encoding: base64', '', '!!!!@@@@####', '');
      await assertKeptWhole(store, raw, await split(raw, store.content));
    });

    test('a multipart without a boundary parameter', async () => {
      const raw = mime(...HEAD, 'Content-Type: multipart/mixed', '', '--B', 'Content-Type: text/plain', '', 'hello', '--B--', '');
      const result = await split(raw, store.content);
      await assertKeptWhole(store, raw, result);
      assert.equal(result.email.subject, 'damaged', 'the headers that could be read still fill the envelope');
      assert.equal(result.email.messageId, '<damaged@postroom.test>');
    });

    test('a header block that never ends, in an email large enough to have its body streamed', async () => {
      const raw = mime('From: "Postroom Test"', 'Subject: cut off in the headers');
      await assertKeptWhole(store, raw, await split(raw, store.content, { size: TEXT_IN_MEMORY_BYTES + 1 }));
    });

    test('bytes that are not an email', async () => {
      const raw = Buffer.from(Array.from({ length: 5000 }, (_, index) => (index * 7919 + 13) % 256));
      await assertKeptWhole(store, raw, await split(raw, store.content));
    });

    test('more than 1,000 MIME parts; the parts written before the parser gave up are removed', async () => {
      const many = Array.from({ length: 1100 }, (_, index) => mime('--B', `Content-Type: application/octet-stream; name="f${index}.bin"`, '', 'x'));
      const raw = mixed(TEXT_PART, ...many, '--B--', '');
      const isolated = await tempStore();
      try {
        await assertKeptWhole(isolated, raw, await split(raw, isolated.content));
        assert.equal((await isolated.files()).length, 1, 'only the original is left in the content store');
      } finally {
        await isolated.dispose();
      }
    });

    test('without reopen, the raw email is spooled first and kept from there', async () => {
      const raw = Buffer.from(mime(...HEAD, `X-Huge: ${'a'.repeat(2 * 1024 * 1024)}`, '', 'hello'));
      const isolated = await tempStore();
      try {
        const result = await splitEmail(Readable.from([raw]), ALL_ON, isolated.content);
        await assertKeptWhole(isolated, raw, result);
        assert.equal((await isolated.files()).length, 1);
      } finally {
        await isolated.dispose();
      }
    });

    test('without reopen, a good email leaves no spooled copy behind', async () => {
      const raw = Buffer.from(mixed(TEXT_PART, '--B--', ''));
      const isolated = await tempStore();
      try {
        const result = await splitEmail(Readable.from([raw]), ALL_ON, isolated.content);
        assert.deepEqual(kinds(result), ['body:body.txt']);
        assert.equal((await isolated.files()).length, 1);
      } finally {
        await isolated.dispose();
      }
    });
  });

  describe('failures that are not the email’s fault are thrown, for the caller to retry', () => {
    test('the raw stream fails (the fetch broke off)', async () => {
      const isolated = await tempStore();
      try {
        const broken = Readable.from(
          (async function* () {
            yield Buffer.from(mixed(TEXT_PART, '--B', 'Content-Type: application/pdf; name="a.pdf"', 'Content-Transfer-Encoding: base64', '', 'QUJD'));
            throw new Error('connection reset');
          })(),
        );
        await assert.rejects(splitEmail(broken, { ...ALL_ON, reopen: () => Readable.from([]) }, isolated.content), /connection reset/);
        assert.deepEqual(await isolated.files(), [], 'nothing is left behind');
      } finally {
        await isolated.dispose();
      }
    });

    for (const type of ['application/pdf', 'text/calendar']) {
      test(`the raw stream fails mid-attachment (${type}) before the store has started reading`, async () => {
        const lateStore: ContentStore = {
          async write(source) {
            await sleep(100);
            for await (const _chunk of source) {
              // drain
            }
            return { ref: 'never', size: 0, sha256: '' };
          },
          makeDurable: async () => {},
          open: () => Readable.from([]),
          remove: async () => {},
        };
        const broken = Readable.from(
          (async function* () {
            // mailsplit gathers 64 KiB before it parses anything: send more than that first.
            yield Buffer.from(mixed(TEXT_PART, '--B', `Content-Type: ${type}`, '', 'BEGIN:VCALENDAR', ...Array<string>(2000).fill('x'.repeat(70)), ''));
            await sleep(30);
            throw new Error('connection reset');
          })(),
        );
        await assert.rejects(splitEmail(broken, { ...ALL_ON, reopen: () => Readable.from([]) }, lateStore), /connection reset/);
      });
    }

    test('the content store fails', async () => {
      const failing: ContentStore = {
        write: async () => {
          throw new Error('disk full');
        },
        makeDurable: async () => {},
        open: () => Readable.from([]),
        remove: async () => {},
      };
      const raw = mixed(TEXT_PART, '--B', 'Content-Type: application/pdf; name="a.pdf"', 'Content-Transfer-Encoding: base64', '', 'QUJD', '--B--', '');
      await assert.rejects(split(raw, failing), /disk full/);
    });
  });

  test('never throws on random damage: every email is split or kept', async () => {
    const base = Buffer.from(
      mixed(TEXT_PART, '--B', 'Content-Type: application/pdf; name="a.pdf"', 'Content-Transfer-Encoding: base64', '', 'QUJDREVGR0hJSktM', '--B--', ''),
    );
    for (let seed = 1; seed <= 60; seed += 1) {
      const damaged = Buffer.from(base);
      for (let hit = 0; hit < 8; hit += 1) damaged[(seed * 7919 + hit * 104729) % damaged.length] = (seed * 31 + hit * 17) % 256;
      const result = await split(damaged, store.content);
      const kept = result.parts.some((part) => part.kind === 'original');
      assert.ok(kept || result.parts.length > 0 || !damaged.includes('hello'), `seed ${seed}: ${JSON.stringify(kinds(result))}`);
    }
  });
});
