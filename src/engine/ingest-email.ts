/**
 * Step 2 of the pickup sequence for one fetched email: keep the raw bytes, split them into
 * pipeline messages, and build the commit that writes ledger + outbox in one transaction.
 *
 * The content files are written but not yet fsynced: the caller makes `contentRefs` durable
 * (for a whole group of emails at once) before committing.
 */
import type { Readable } from 'node:stream';
import { DEFAULT_MAX_EMAIL_BYTES, DEFAULT_MAX_PARTS_PER_EMAIL, type ConnectionConfig } from '../config/schema.ts';
import { NO_EMAIL_FIELDS } from '../mime/envelope-email.ts';
import { originalPart } from '../mime/keep-original.ts';
import { splitEmail, type SplitResult } from '../mime/split-email.ts';
import type { ListedEmail } from '../sources/source.ts';
import { sourceKeyString } from '../sources/source.ts';
import type { ContentStore, WrittenContent } from '../model/content-store.ts';
import type { EmailCommit } from '../store/store.ts';
import { pipelineMessageId, type Envelope } from '../model/envelope.ts';

export interface IngestedEmail {
  raw: WrittenContent;
  split: SplitResult;
  commit: EmailCommit;
}

export async function ingestEmail(
  connection: ConnectionConfig,
  email: ListedEmail,
  content: Readable,
  contents: ContentStore,
  now: number,
): Promise<IngestedEmail> {
  const deferred: ContentStore = { ...contents, write: (source) => contents.write(source, { durable: false }) };
  return ingestInto(connection, email, content, deferred, now);
}

async function ingestInto(connection: ConnectionConfig, email: ListedEmail, content: Readable, contents: ContentStore, now: number): Promise<IngestedEmail> {
  const raw = await contents.write(content);
  // Connections from the config file have the global limits filled in; these cover the others.
  const maxEmailBytes = connection.maxEmailBytes ?? DEFAULT_MAX_EMAIL_BYTES;
  let split: SplitResult;
  try {
    split =
      raw.size > maxEmailBytes
        ? await keepOversized(raw, maxEmailBytes, contents)
        : await splitEmail(
            contents.open(raw.ref),
            {
              sendMessageBody: connection.sendMessageBody,
              sendAttachments: connection.sendAttachments,
              reopen: () => contents.open(raw.ref),
              size: raw.size,
              maxParts: connection.maxPartsPerEmail ?? DEFAULT_MAX_PARTS_PER_EMAIL,
            },
            contents,
          );
  } catch (error) {
    await contents.remove(raw.ref);
    throw error;
  }
  const sourceKey = sourceKeyString(email.key);
  // A reused key (POP3 UIDL) with a new fingerprint is a different email: its pipeline message
  // ids must differ too, or destinations would take it for a redelivery of the old one.
  const identity = email.fingerprint === undefined ? sourceKey : `${sourceKey}#${email.fingerprint}`;
  const receivedAt = new Date(now).toISOString();
  const messages = split.parts.map((part) => {
    const envelope: Envelope = {
      id: pipelineMessageId(connection.name, identity, part.partIndex),
      connection: connection.name,
      kind: part.kind,
      filename: part.filename,
      contentType: part.contentType,
      size: part.size,
      sha256: part.sha256,
      partIndex: part.partIndex,
      source: { ...email.key },
      email: split.email,
      receivedAt,
    };
    if (part.inline !== undefined) envelope.inline = part.inline;
    if (part.contentId !== undefined) envelope.contentId = part.contentId;
    if (part.method !== undefined) envelope.method = part.method;
    if (part.parseError !== undefined) envelope.parseError = part.parseError;
    if (part.undecodedEncoding !== undefined) envelope.undecodedEncoding = part.undecodedEncoding;
    if (part.appleFile !== undefined) envelope.appleFile = part.appleFile;
    return { envelope, destination: connection.destination ?? '', contentRef: part.contentRef };
  });
  const commit: EmailCommit = {
    connection: connection.name,
    sourceKey,
    key: email.key,
    fingerprint: email.fingerprint ?? null,
    messageId: split.email.messageId,
    rawSha256: raw.sha256,
    rawRef: raw.ref,
    messages,
    now,
  };
  if (email.cursorAfter) commit.cursor = email.cursorAfter;
  return { raw, split, commit };
}

/** An email over maxEmailBytes is not parsed at all: it is delivered whole, and the envelope says why. */
async function keepOversized(raw: WrittenContent, maxEmailBytes: number, contents: ContentStore): Promise<SplitResult> {
  const copy = await contents.write(contents.open(raw.ref));
  const reason = `the email is ${raw.size} bytes, over the ${maxEmailBytes}-byte limit (maxEmailBytes): it is kept whole, not split; raise maxEmailBytes on the connection (or limits.maxEmailBytes) to split emails this large`;
  return { email: NO_EMAIL_FIELDS, parts: [originalPart(copy, reason)] };
}

/** Removes the content files of an email that will not be committed. */
export async function discardIngested(ingested: IngestedEmail, contents: ContentStore): Promise<void> {
  await Promise.all(contentRefs(ingested).map((ref) => contents.remove(ref)));
}

/** Every content file an ingested email wrote: its raw copy and its parts. */
export function contentRefs(ingested: IngestedEmail): string[] {
  return [ingested.raw.ref, ...ingested.split.parts.map((part) => part.contentRef)];
}
