/**
 * Step 2 of the pickup sequence for one fetched email: keep the raw bytes, split them into
 * pipeline messages, and build the commit that writes ledger + outbox in one transaction.
 *
 * The content files are written but not yet fsynced: the caller makes `contentRefs` durable
 * (for a whole group of emails at once) before committing.
 *
 * An email the source holds whole in memory (a Buffer) is written and parsed from those bytes at
 * the same time; a streamed one (a large email, POP3) is written first and parsed from the file.
 */
import { Readable } from 'node:stream';
import type { FilterConfig } from '../config/filter-schema.ts';
import { type ConnectionConfig, DEFAULT_MAX_EMAIL_BYTES, DEFAULT_MAX_PARTS_PER_EMAIL } from '../config/schema.ts';
import type { EmailFacts } from '../filter/email-facts.ts';
import { type Judgement, judgeEmail, needsAttachments } from '../filter/judge-email.ts';
import { attachmentSelected, routeOf } from '../filter/select-parts.ts';
import { headerFacts, readHead, splitFacts } from '../mime/email-facts.ts';
import { NO_EMAIL_FIELDS } from '../mime/envelope-email.ts';
import { originalPart } from '../mime/keep-original.ts';
import { type SplitResult, splitEmail } from '../mime/split-email.ts';
import type { ContentStore, WriteOptions, WrittenContent } from '../model/content-store.ts';
import { type Envelope, type EnvelopeEmail, pipelineMessageId } from '../model/envelope.ts';
import type { ListedEmail } from '../sources/source.ts';
import { sourceKeyString } from '../sources/source.ts';
import type { EmailCommit, EmailSummary } from '../store/store.ts';

export interface IngestedEmail {
  raw: WrittenContent;
  split: SplitResult;
  commit: EmailCommit;
  /** The filter's verdict, when the connection has a filter. */
  judgement?: Judgement;
}

/** What of a connection keeping and splitting an email reads (all of it plain data, so a parse thread can be given it). */
export type IngestSettings = Pick<
  ConnectionConfig,
  'name' | 'destination' | 'filter' | 'routes' | 'attachments' | 'sendAttachments' | 'sendMessageBody' | 'maxEmailBytes' | 'maxPartsPerEmail'
>;

export function ingestSettings(connection: IngestSettings): IngestSettings {
  const { name, destination, filter, routes, attachments, sendAttachments, sendMessageBody, maxEmailBytes, maxPartsPerEmail } = connection;
  return { name, destination, filter, routes, attachments, sendAttachments, sendMessageBody, maxEmailBytes, maxPartsPerEmail };
}

/** What the email trail keeps of an email: sender, subject, its Date header, size. */
function summaryOf(email: EnvelopeEmail, size: number): EmailSummary {
  const sentAt = email.date === null ? Number.NaN : Date.parse(email.date);
  return { from: email.from, subject: email.subject, sentAt: Number.isFinite(sentAt) ? sentAt : null, size };
}

/** Whether the connection's filter or routes look at the email at all. */
function judges(connection: IngestSettings): boolean {
  return !!connection.filter || connection.routes.length > 0;
}

/** The attachments must all be split out to judge, even when they are not sent. */
function wantsEveryAttachment(connection: IngestSettings): boolean {
  return needsAttachments(connection.filter) || connection.routes.some((route) => needsAttachments(route.when));
}

/**
 * An email the filter left out on its headers alone (before the download): recorded as filtered,
 * nothing kept, nothing emitted.
 */
export function leftBeforeDownload(
  connection: Pick<ConnectionConfig, 'name'>,
  email: ListedEmail,
  judgement: Judgement & { verdict: 'left' },
  now: number,
  facts?: EmailFacts,
): IngestedEmail {
  const commit: EmailCommit = {
    summary: { from: facts?.from ?? null, subject: facts?.subject ?? null, sentAt: null, size: facts?.size ?? email.size ?? null },
    connection: connection.name,
    sourceKey: sourceKeyString(email.key),
    key: email.key,
    fingerprint: email.fingerprint ?? null,
    messageId: null,
    rawSha256: '',
    rawRef: '',
    messages: [],
    filtered: { condition: judgement.condition, reason: judgement.reason },
    now,
  };
  if (email.cursorAfter) commit.cursor = email.cursorAfter;
  return { raw: { ref: '', size: 0, sha256: '' }, split: { email: NO_EMAIL_FIELDS, parts: [] }, commit, judgement };
}

/** The facts of a listed email from what the listing read before the body, when it read any. */
export async function listedFacts(email: ListedEmail): Promise<EmailFacts | undefined> {
  if (!email.head) return undefined;
  if ('facts' in email.head) return { ...email.head.facts };
  const facts = await headerFacts(email.head.headers, email.size);
  if (email.head.attachments) facts.attachments = { list: email.head.attachments, complete: false };
  return facts;
}

/**
 * What the listing already decided of an email, before any download: the server's search left it
 * out, or the filter judged what the listing read (headers, structure, size); undefined when the
 * listing read nothing of it to judge.
 */
export async function listedJudgement(filter: FilterConfig, email: ListedEmail): Promise<{ judgement: Judgement; facts?: EmailFacts } | undefined> {
  if (email.leftByServer) return { judgement: { verdict: 'left', ...email.leftByServer } };
  const facts = await listedFacts(email);
  return facts ? { judgement: judgeEmail(filter, facts), facts } : undefined;
}

export async function ingestEmail(
  connection: IngestSettings,
  email: ListedEmail,
  content: Readable | Buffer,
  contents: ContentStore,
  now: number,
): Promise<IngestedEmail> {
  const keep = (bytes: Buffer, options: WriteOptions): Promise<WrittenContent> =>
    contents.writeBytes ? contents.writeBytes(bytes, options) : contents.write(Readable.from([bytes]), options);
  const deferred: DeferredContent = {
    ...contents,
    write: (source) => contents.write(source, { durable: false }),
    writeBytes: (bytes) => keep(bytes, { durable: false }),
    // The raw copy is only read back through the store (parse, replay, download), never linked.
    writeRaw: (bytes) => keep(bytes, { durable: false, packed: true }),
  };
  return ingestInto(connection, email, content, deferred, now);
}

/** The content store with every write left for the group's `makeDurable`. */
type DeferredContent = ContentStore & Required<Pick<ContentStore, 'writeBytes'>> & { writeRaw(bytes: Buffer): Promise<WrittenContent> };

async function ingestInto(
  connection: IngestSettings,
  email: ListedEmail,
  content: Readable | Buffer,
  contents: DeferredContent,
  now: number,
): Promise<IngestedEmail> {
  // Connections from the config file have the global limits filled in; these cover the others.
  const maxEmailBytes = connection.maxEmailBytes ?? DEFAULT_MAX_EMAIL_BYTES;
  const splitOptions = (reopen: () => Readable, size: number) => ({
    sendMessageBody: connection.sendMessageBody,
    sendAttachments: connection.sendAttachments || wantsEveryAttachment(connection),
    reopen,
    size,
    maxParts: connection.maxPartsPerEmail ?? DEFAULT_MAX_PARTS_PER_EMAIL,
  });
  let raw: WrittenContent;
  let split: SplitResult;
  if (Buffer.isBuffer(content)) {
    const bytes = content;
    const writing = contents.writeRaw(bytes);
    const splitting =
      bytes.length > maxEmailBytes
        ? writing.then((written) => keepOversized(written, maxEmailBytes, contents))
        : splitEmail(
            Readable.from([bytes]),
            splitOptions(() => Readable.from([bytes]), bytes.length),
            contents,
          );
    const [wrote, splitOutcome] = await Promise.allSettled([writing, splitting]);
    if (wrote.status === 'rejected' || splitOutcome.status === 'rejected') {
      if (wrote.status === 'fulfilled') await contents.remove(wrote.value.ref);
      if (splitOutcome.status === 'fulfilled') await Promise.all(splitOutcome.value.parts.map((part) => contents.remove(part.contentRef)));
      throw wrote.status === 'rejected' ? wrote.reason : (splitOutcome as PromiseRejectedResult).reason;
    }
    raw = wrote.value;
    split = splitOutcome.value;
  } else {
    raw = await contents.write(content);
    try {
      split =
        raw.size > maxEmailBytes
          ? await keepOversized(raw, maxEmailBytes, contents)
          : await splitEmail(
              contents.open(raw.ref),
              splitOptions(() => contents.open(raw.ref), raw.size),
              contents,
            );
    } catch (error) {
      await contents.remove(raw.ref);
      throw error;
    }
  }
  let facts: EmailFacts | undefined;
  let judgement: Judgement | undefined;
  if (judges(connection)) {
    try {
      const head = await headerFacts(await readHead(contents.open(raw.ref)), email.size ?? raw.size);
      const attachments = split.parts
        .filter((part) => part.kind === 'attachment')
        .map((part) => ({ contentType: part.contentType, filename: part.filename, ...(part.inline !== undefined ? { inline: part.inline } : {}) }));
      facts = splitFacts(head, split.email, attachments);
    } catch (error) {
      await Promise.all([raw.ref, ...split.parts.map((part) => part.contentRef)].map((ref) => contents.remove(ref)));
      throw error;
    }
    if (connection.filter) judgement = judgeEmail(connection.filter, facts);
  }
  if (judgement?.verdict === 'left') {
    // Judged on its whole content: nothing of it is kept or emitted.
    await Promise.all([raw.ref, ...split.parts.map((part) => part.contentRef)].map((ref) => contents.remove(ref)));
    const left = leftBeforeDownload(connection, email, judgement, now);
    left.commit.summary = summaryOf(split.email, email.size ?? raw.size);
    left.commit.messageId = split.email.messageId;
    left.commit.rawSha256 = raw.sha256;
    left.split = { email: split.email, parts: [] };
    return left;
  }
  // The attachments asked for (`attachments`, and only when sendAttachments is on).
  const unsent = split.parts.filter((part) => part.kind === 'attachment' && !(connection.sendAttachments && attachmentSelected(connection.attachments, part)));
  if (unsent.length) {
    await Promise.all(unsent.map((part) => contents.remove(part.contentRef)));
    split = { ...split, parts: split.parts.filter((part) => !unsent.includes(part)) };
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
    const fallback = connection.destination ?? '';
    const destination = facts && connection.routes.length ? routeOf(connection.routes, part, facts, fallback) : fallback;
    return { envelope, destination, contentRef: part.contentRef };
  });
  const commit: EmailCommit = {
    summary: summaryOf(split.email, email.size ?? raw.size),
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
  return { raw, split, commit, ...(judgement ? { judgement } : {}) };
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
  // An email the filter left out keeps nothing (its raw ref is empty).
  return [ingested.raw.ref, ...ingested.split.parts.map((part) => part.contentRef)].filter((ref) => ref !== '');
}
