import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { type SplitPart, splitEmail } from '../../src/mime/split-email.ts';
import type { ContentStore } from '../../src/model/content-store.ts';
import { createFsContentStore } from '../../src/store/content/fs-content-store.ts';
import { buildCorpus, type ExpectedPart } from '../support/corpus.ts';

const ALL_ON = { sendMessageBody: true, sendAttachments: true };

describe('splits each corpus email into the expected parts', () => {
  let dir: string;
  let content: ContentStore;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'postroom-mime-'));
    content = createFsContentStore(dir);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const email of buildCorpus()) {
    test(email.name, async () => {
      const result = await splitEmail(Readable.from([email.raw]), ALL_ON, content);
      assert.deepEqual(result.parts.map(summary), email.expected.parts.map(expectedSummary));
      assert.deepEqual(
        result.parts.map((part) => part.partIndex),
        result.parts.map((part) => (part.kind === 'attachment' ? part.partIndex : 0)),
      );
      for (const part of result.parts) {
        assert.equal(await storedSha256(content, part), part.sha256, `${part.filename} is stored as reported`);
      }
      assert.equal(result.email.subject, email.subject);
    });
  }

  test('numbers attachments 1..N in MIME order after the body', async () => {
    for (const email of buildCorpus()) {
      const { parts } = await splitEmail(Readable.from([email.raw]), ALL_ON, content);
      const attachments = parts.filter((part) => part.kind === 'attachment');
      assert.deepEqual(
        attachments.map((part) => part.partIndex),
        attachments.map((_, index) => index + 1),
        email.name,
      );
    }
  });
});

/** Compares what the corpus states; `inline` and `method` only where it states them. */
function summary(part: SplitPart): ExpectedPart {
  return {
    kind: part.kind,
    filename: part.filename,
    sha256: part.sha256,
    contentType: part.contentType,
    ...(part.inline ? { inline: true } : {}),
    ...(part.method === undefined ? {} : { method: part.method }),
  };
}

function expectedSummary(part: ExpectedPart): ExpectedPart {
  const { inline, ...rest } = part;
  return inline ? { ...rest, inline } : rest;
}

async function storedSha256(content: ContentStore, part: SplitPart): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of content.open(part.contentRef)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
