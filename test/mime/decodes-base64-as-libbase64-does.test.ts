/**
 * Postroom decodes base64 parts with its own decoder (src/mime/base64-decoder.ts) instead of the
 * libbase64 Decoder mailsplit would hand mailparser. An attachment's bytes are what a user gets
 * and what the content hash is of, so the two must give the same bytes for any input, however it
 * is cut into writes: bodies as mail clients wrap them, padding in odd places, every byte value
 * as stray garbage, and the characters Node's own decoder reads differently ("-", "_", "=").
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type { Transform } from 'node:stream';
import { describe, it } from 'node:test';
import { Base64Decoder } from '../../src/mime/base64-decoder.ts';
import { base64Lines, pseudoRandomBytes } from '../support/mime-writer.ts';
import { seededRandom } from '../support/seeded-random.ts';

/** The libbase64 mailsplit itself would use (it is mailsplit's dependency, not Postroom's). */
const libbase64 = createRequire(createRequire(import.meta.url).resolve('@zone-eu/mailsplit'))('libbase64') as {
  Decoder: new () => Transform;
};
const SEED = 20261207;
const CASES = 400;

async function decode(decoder: Transform, pieces: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  decoder.on('data', (bytes: Buffer) => out.push(bytes));
  const ended = new Promise<void>((resolve, reject) => {
    decoder.once('end', resolve);
    decoder.once('error', reject);
  });
  for (const piece of pieces) decoder.write(piece);
  decoder.end();
  await ended;
  return Buffer.concat(out);
}

/** Cuts bytes into pieces of the sizes the generator picks (1 byte to 64 KB). */
function cut(bytes: Buffer, random: () => number): Buffer[] {
  const sizes = [1, 2, 3, 5, 77, 1000, 4096, 65536];
  const pieces: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    const size = 1 + Math.floor(random() * sizes[Math.floor(random() * sizes.length)]!);
    pieces.push(bytes.subarray(at, at + size));
    at += size;
  }
  return pieces;
}

/** A base64 body as some mail client might write it, with the damage real mail has now and then. */
function body(random: () => number): Buffer {
  const length = Math.floor(random() * 5000);
  // Now and then a run of one byte (zero bytes encode as "AAAA"), where the decoded tail cannot
  // tell where the last group ends.
  const data = random() < 0.2 ? Buffer.alloc(length, random() < 0.5 ? 0 : Math.floor(random() * 256)) : pseudoRandomBytes(length, String(random()));
  let text = data.toString('base64');
  if (random() < 0.2) text = text.replace(/=+$/, '');
  const width = [76, 76, 64, 72, 77, 3, 1 + Math.floor(random() * 120)][Math.floor(random() * 7)]!;
  const eol = ['\r\n', '\n', '\r\n', ' \r\n', '\t\n'][Math.floor(random() * 5)]!;
  const lines: string[] = [];
  for (let at = 0; at < text.length; at += width) lines.push(text.slice(at, at + width));
  if (random() < 0.15) {
    // Each line encoded and padded on its own, as some old clients did.
    for (let i = 0; i < lines.length; i++) lines[i] = Buffer.from(lines[i]!, 'latin1').toString('base64');
  }
  const bytes = Buffer.from(lines.join(eol) + (random() < 0.5 ? eol : ''), 'latin1');
  const damage = random() < 0.5 ? 0 : Math.floor(random() * 12);
  const damaged = [...bytes];
  for (let i = 0; i < damage; i++) {
    const odd = random() < 0.5 ? [0x2d, 0x5f, 0x3d, 0x00, 0x20, 0x2e, 0xff, 0x80][Math.floor(random() * 8)]! : Math.floor(random() * 256);
    damaged.splice(Math.floor(random() * (damaged.length + 1)), 0, odd);
  }
  return Buffer.from(damaged);
}

describe('base64 decoding', () => {
  it('gives the bytes of a large attachment as sent, in 64 KB writes', async () => {
    const data = pseudoRandomBytes(300_000, String(SEED));
    const text = Buffer.from(`${base64Lines(data)}\r\n`, 'latin1');
    const pieces: Buffer[] = [];
    for (let at = 0; at < text.length; at += 65536) pieces.push(text.subarray(at, at + 65536));
    assert.ok((await decode(new Base64Decoder(), pieces)).equals(data));
  });

  it(`gives libbase64's bytes for ${CASES} generated bodies, however they are cut`, async () => {
    const random = seededRandom(SEED + 1);
    for (let n = 0; n < CASES; n++) {
      const input = body(random);
      const expected = await decode(new libbase64.Decoder(), [input]);
      for (const pieces of [[input], cut(input, random), cut(input, random)]) {
        const actual = await decode(new Base64Decoder(), pieces);
        assert.ok(actual.equals(expected), `case ${n}, ${pieces.length} pieces: ${JSON.stringify(input.toString('latin1').slice(0, 200))}`);
      }
    }
  });

  it("gives libbase64's bytes around each byte value, in one write and one byte at a time", async () => {
    for (let value = 0; value < 256; value++) {
      for (const around of ['QUJD', 'QUJDRA', 'QUJDREU', 'QQ', 'Q']) {
        for (const at of [0, 1, 2, around.length]) {
          const input = Buffer.concat([Buffer.from(around.slice(0, at), 'latin1'), Buffer.from([value]), Buffer.from(`${around.slice(at)}RUZH`, 'latin1')]);
          const expected = await decode(new libbase64.Decoder(), [input]);
          assert.ok((await decode(new Base64Decoder(), [input])).equals(expected), `byte ${value} in ${around} at ${at}`);
          const bytes = [...input].map((byte) => Buffer.from([byte]));
          assert.ok((await decode(new Base64Decoder(), bytes)).equals(expected), `byte ${value} in ${around} at ${at}, byte by byte`);
        }
      }
    }
  });
});
