import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { type SplitResult, splitEmail } from '../../src/mime/split-email.ts';
import { buildCorpus } from '../support/corpus.ts';
import { ALL_ON, type TempStore, tempStore } from './mime-test-kit.ts';

/** The bytes of `raw` in pieces of `size`: how a network read might deliver them. */
function inPieces(raw: Buffer, size: number): Readable {
  const pieces: Buffer[] = [];
  for (let start = 0; start < raw.length; start += size) pieces.push(raw.subarray(start, start + size));
  return Readable.from(pieces);
}

function identity(result: SplitResult): unknown {
  return { email: result.email, parts: result.parts.map(({ contentRef: _ref, ...rest }) => rest) };
}

describe('splits the same bytes into the same parts every time', () => {
  let store: TempStore;
  before(async () => {
    store = await tempStore();
  });
  after(() => store.dispose());

  for (const email of buildCorpus()) {
    test(email.name, async () => {
      const reference = identity(await splitEmail(Readable.from([email.raw]), ALL_ON, store.content));
      for (const size of [1, 7, 76, 4096]) {
        assert.deepEqual(identity(await splitEmail(inPieces(email.raw, size), ALL_ON, store.content)), reference, `pieces of ${size} bytes`);
      }
    });
  }
});
