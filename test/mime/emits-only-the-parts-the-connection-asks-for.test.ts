import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildCorpus } from '../support/corpus.ts';
import { classificationOf } from '../support/corpus-assertions.ts';
import { buildRealWorldCorpus } from '../support/real-world-corpus.ts';
import { split, type TempStore, tempStore } from './mime-test-kit.ts';

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
      [
        ['body', 0],
        ['attachment', 1],
        ['attachment', 2],
        ['attachment', 3],
      ],
    );
  });

  test('sendMessageBody off: no body; attachments keep their part indexes (ids derive from them)', async () => {
    const { parts } = await split(email?.raw ?? '', store.content, { sendMessageBody: false });
    assert.deepEqual(
      parts.map((part) => [part.kind, part.partIndex, part.filename]),
      [
        ['attachment', 1, 'random.bin'],
        ['attachment', 2, 'report.csv'],
        ['attachment', 3, 'invoice.pdf'],
      ],
    );
  });

  test('sendAttachments off: only the body, and nothing else is written', async () => {
    const isolated = await tempStore();
    try {
      const { parts } = await split(email?.raw ?? '', isolated.content, { sendAttachments: false });
      assert.deepEqual(
        parts.map((part) => [part.kind, part.partIndex]),
        [['body', 0]],
      );
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
  test('sendAttachments off: a body inside winmail.dat or a .p7m is still the body, and reports are still read', async () => {
    const wanted = ['wrapper-tnef-rtf-html-body', 'wrapper-tnef-out-of-office-rtf-body', 'signed-smime-opaque-ber', 'report-delivery-status-failed'];
    for (const entry of buildRealWorldCorpus().filter((candidate) => wanted.includes(candidate.name))) {
      const isolated = await tempStore();
      try {
        const result = await split(entry.raw, isolated.content, { sendAttachments: false });
        const body = entry.expected.parts.filter((part) => part.kind === 'body');
        assert.deepEqual(
          result.parts.map((part) => [part.kind, part.filename, part.sha256]),
          body.map((part) => [part.kind, part.filename, part.sha256]),
          entry.name,
        );
        assert.deepEqual(classificationOf(result.email), entry.expected.email, entry.name);
        assert.equal((await isolated.files()).length, 1, `${entry.name}: only the body is left in the store`);
      } finally {
        await isolated.dispose();
      }
    }
  });
});
