/**
 * The body of an email over TEXT_IN_MEMORY_BYTES is streamed into the content store instead of
 * being decoded in memory. It must come out the same: every corpus email split as if it were
 * large gives the same parts, byte for byte, as split the usual way.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, it } from 'node:test';
import { type SplitResult, splitEmail } from '../../src/mime/split-email.ts';
import { TEXT_IN_MEMORY_BYTES } from '../../src/mime/streamed-text.ts';
import { buildCorpus } from '../support/corpus.ts';
import { buildRealWorldCorpus } from '../support/real-world-corpus.ts';
import { ALL_ON, split, type TempStore, tempStore } from './mime-test-kit.ts';

let store: TempStore;
before(async () => {
  store = await tempStore();
});
after(async () => store?.dispose());

function summary(result: SplitResult): unknown[] {
  return result.parts.map(({ contentRef: _ref, ...part }) => part);
}

it('gives every corpus email the same parts whether its body is held or streamed', async () => {
  for (const email of [...buildCorpus(), ...buildRealWorldCorpus()]) {
    const held = await split(email.raw, store.content);
    const streamed = await splitEmail(
      Readable.from([email.raw]),
      { ...ALL_ON, size: TEXT_IN_MEMORY_BYTES + 1, reopen: () => Readable.from([email.raw]) },
      store.content,
    );
    assert.deepEqual(summary(streamed), summary(held), email.name);
    assert.deepEqual(streamed.email, held.email, email.name);
  }
});
