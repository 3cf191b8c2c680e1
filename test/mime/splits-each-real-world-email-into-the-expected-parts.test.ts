import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { SplitPart } from '../../src/mime/split-email.ts';
import { assertParsedAs, classificationOf } from '../support/corpus-assertions.ts';
import { buildRealWorldCorpus, type ExpectedPart } from '../support/real-world-corpus.ts';
import { readPart, split, type TempStore, tempStore } from './mime-test-kit.ts';

describe('splits each real-world email into the expected parts', () => {
  let store: TempStore;
  before(async () => {
    store = await tempStore();
  });
  after(async () => {
    await store.dispose();
  });

  for (const email of buildRealWorldCorpus()) {
    test(email.name, async () => {
      const result = await split(email.raw, store.content);
      assert.deepEqual(
        result.parts.map((part, index) => summary(part, email.expected.parts[index])),
        email.expected.parts.map(expectedSummary),
      );
      for (const [index, expected] of email.expected.parts.entries()) {
        if (expected.parsedAs)
          await assertParsedAs(await readPart(store.content, result.parts[index]!.contentRef), expected.parsedAs, `${email.name} part ${index}`);
      }
      for (const part of result.parts) {
        const stored = createHash('sha256')
          .update(await readPart(store.content, part.contentRef))
          .digest('hex');
        assert.equal(stored, part.sha256, `${part.filename} is stored as reported`);
      }
      assert.equal(result.email.subject, email.subject);
      assert.deepEqual(classificationOf(result.email), email.expected.email ?? {});
    });
  }
});

/**
 * Compares what the corpus states; `inline`, `method`, `undecodedEncoding` and `appleFile` only
 * where it states them; an email Postroom wrote by what it parses as, not its sha256.
 */
function summary(part: SplitPart, expected: ExpectedPart | undefined): ExpectedPart {
  return {
    kind: part.kind,
    filename: part.filename,
    sha256: expected?.parsedAs ? '' : part.sha256,
    ...(expected?.parsedAs ? { parsedAs: expected.parsedAs } : {}),
    contentType: part.contentType,
    ...(part.inline ? { inline: true } : {}),
    ...(part.method === undefined ? {} : { method: part.method }),
    ...(part.undecodedEncoding === undefined ? {} : { undecodedEncoding: part.undecodedEncoding }),
    ...(part.appleFile === undefined ? {} : { appleFile: part.appleFile }),
  };
}

function expectedSummary(part: ExpectedPart): ExpectedPart {
  const { inline, ...rest } = part;
  return inline ? { ...rest, inline } : rest;
}
