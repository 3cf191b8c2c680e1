/** The one check that a corpus arrived whole: the same for every protocol. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import PostalMime from 'postal-mime';
import type { EnvelopeEmail } from '../../src/model/envelope.ts';
import type { Protocol } from '../../src/sources/source.ts';
import type { CorpusEmail } from './corpus.ts';
import type { ParsedEmailExpectation } from './mime-writer.ts';
import { bySubject, type Delivered } from './postroom.ts';

/**
 * Every corpus email's parts arrived as separate pipeline messages, byte-exact (sha256), with
 * the expected kinds, filenames, inline and calendar markers, and each id only once.
 */
export function assertCorpusDelivered(corpus: CorpusEmail[], delivered: Delivered[], protocol: Protocol, connection = 'inbox'): void {
  const groups = bySubject(delivered);
  for (const email of corpus) {
    const got = groups.get(email.subject) ?? [];
    assert.equal(got.length, email.expected.parts.length, `${email.name}: ${got.map((g) => `${g.envelope.kind}:${g.envelope.filename}`).join(', ')}`);
    email.expected.parts.forEach((expected, index) => {
      const part = got[index]!;
      assert.equal(part.envelope.kind, expected.kind, `${email.name} part ${index} kind`);
      assert.equal(part.envelope.filename, expected.filename, `${email.name} part ${index} filename`);
      // An email Postroom wrote is read back instead (assertParsedParts).
      if (!expected.parsedAs) assert.equal(part.sha256, expected.sha256, `${email.name} part ${index} (${expected.filename}) is byte-exact`);
      assert.equal(part.envelope.sha256, part.sha256, 'the envelope states the content hash');
      assert.equal(part.envelope.size, part.data.length);
      assert.equal(part.envelope.connection, connection);
      assert.equal(part.envelope.source.protocol, protocol);
      if (expected.inline !== undefined) assert.equal(part.envelope.inline ?? false, expected.inline, `${email.name} inline`);
      if (expected.method) assert.equal(part.envelope.method, expected.method);
      assert.equal(part.envelope.undecodedEncoding, expected.undecodedEncoding, `${email.name} part ${index} undecodedEncoding`);
      assert.deepEqual(part.envelope.appleFile, expected.appleFile, `${email.name} part ${index} appleFile`);
      if (email.expected.email) assert.deepEqual(classificationOf(part.envelope.email), email.expected.email, `${email.name} part ${index} classification`);
    });
  }
  const ids = delivered.map((d) => d.envelope.id);
  assert.equal(new Set(ids).size, ids.length, 'every pipeline message has its own id');
}

/** The classification fields of an envelope's email block that are present. */
export const CLASSIFICATION_FIELDS = Object.freeze(['report', 'autoReply', 'list', 'signed', 'encrypted'] as const);

export function classificationOf(email: EnvelopeEmail): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  const record = email as unknown as Record<string, unknown>;
  for (const key of CLASSIFICATION_FIELDS) if (record[key] !== undefined) fields[key] = record[key];
  return fields;
}

/** The parts Postroom wrote itself (stated with `parsedAs`), each read back by an independent parser. */
export async function assertParsedParts(corpus: CorpusEmail[], delivered: Delivered[]): Promise<void> {
  const groups = bySubject(delivered);
  for (const email of corpus) {
    const got = groups.get(email.subject) ?? [];
    for (const [index, expected] of email.expected.parts.entries()) {
      if (expected.parsedAs) await assertParsedAs(got[index]!.data, expected.parsedAs, `${email.name} part ${index}`);
    }
  }
}

/** An email Postroom wrote, read back by an independent parser (postal-mime). */
export async function assertParsedAs(data: Buffer, expected: ParsedEmailExpectation, what: string): Promise<void> {
  const parsed = await PostalMime.parse(data, { attachmentEncoding: 'arraybuffer' });
  assert.equal(parsed.subject, expected.subject, `${what} subject`);
  if (expected.from !== undefined) assert.equal(parsed.from?.address, expected.from, `${what} from`);
  if (expected.text !== undefined) assert.equal(parsed.text, expected.text, `${what} text`);
  if (expected.html !== undefined) assert.equal(parsed.html, expected.html, `${what} html`);
  const files = parsed.attachments.map((file) => ({
    filename: file.filename ?? '',
    sha256: createHash('sha256')
      .update(Buffer.from(file.content as ArrayBuffer))
      .digest('hex'),
  }));
  assert.deepEqual(files, expected.attachments, `${what} attachments`);
}
