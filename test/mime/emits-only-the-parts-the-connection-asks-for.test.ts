import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildCorpus } from '../support/corpus.ts';
import { split, tempStore, type TempStore } from './mime-test-kit.ts';

describe('emits only the parts the connection asks for', () => {
  let store: TempStore;
  const email = buildCorpus().find((candidate) => candidate.name === 'multiple-attachments');
  before(async () => {
    store = await tempStore();
  });
  after(() => store.dispose());

  test('sendMessageBody and sendAttachments: the body and every attachment', async () => {
    const { parts } = await split(email?.raw ?? '', store.content);
    assert.deepEqual(
      parts.map((part) => [part.kind, part.partIndex]),
      [['body', 0], ['attachment', 1], ['attachment', 2], ['attachment', 3]],
    );
  });

  test('sendMessageBody off: no body; attachments keep their part indexes (ids derive from them)', async () => {
    const { parts } = await split(email?.raw ?? '', store.content, { sendMessageBody: false });
    assert.deepEqual(
      parts.map((part) => [part.kind, part.partIndex, part.filename]),
      [['attachment', 1, 'random.bin'], ['attachment', 2, 'report.csv'], ['attachment', 3, 'invoice.pdf']],
    );
  });

  test('sendAttachments off: only the body, and nothing else is written', async () => {
    const isolated = await tempStore();
    try {
      const { parts } = await split(email?.raw ?? '', isolated.content, { sendAttachments: false });
      assert.deepEqual(parts.map((part) => [part.kind, part.partIndex]), [['body', 0]]);
      assert.equal((await isolated.files()).length, 1);
    } finally {
      await isolated.dispose();
    }
  });

  test('both off: no parts, but the envelope fields are still read', async () => {
    const result = await split(email?.raw ?? '', store.content, { sendMessageBody: false, sendAttachments: false });
    assert.deepEqual(result.parts, []);
    assert.equal(result.email.subject, 'Multiple attachments');
  });

  test('an email with no body at all emits no body part', async () => {
    const noBody = buildCorpus().find((candidate) => candidate.name === 'no-body');
    const { parts } = await split(noBody?.raw ?? '', store.content);
    assert.deepEqual(parts, []);
  });
});
