/**
 * Splits one raw email into pipeline message parts: the body (text/plain, else HTML, as UTF-8)
 * and each attachment byte-exact, each written into the content store as it streams by.
 *
 * Parser: mailparser's MailParser stream, chosen over postal-mime by measurement (the figures are
 * in docs/decisions.md): its memory does not grow with an attachment, and it keeps text
 * attachments byte-exact.
 *
 * Memory: attachments stream. The body (text/plain or HTML) of an email up to
 * TEXT_IN_MEMORY_BYTES is decoded in memory by mailparser, which holds it a few times over; a
 * larger email's text parts are streamed into the content store and decoded there
 * (streamed-text.ts): a 50 MB one-line HTML body peaks at ~120 MB resident instead of 330 MB.
 * Emails over the connection's maxEmailBytes never get here (src/engine/ingest-email.ts).
 *
 * Hostile input is bounded: at most `maxParts` parts (TNEF children included; beyond it the
 * original is kept as well), TNEF counts checked against its bytes and unpacked a few
 * milliseconds at a time, bare-CR line endings read as line ends (line-endings.ts).
 *
 * Malformed input never throws out of here and never loses the email:
 * - missing closing boundary, truncated part, broken base64/quoted-printable, bare LF line
 *   endings, NUL bytes, unknown or refused (UTF-7) charsets: split as well as possible —
 *   decoders skip what they cannot read, unknown charsets decode as UTF-8 with U+FFFD, UTF-7
 *   stays undecoded, NUL and other control characters are replaced by `_` in file names only;
 * - a header block over 1 MiB (huge header lines) or more than 1,000 MIME parts: the parser
 *   stops, and the email is kept whole as one 'original' part;
 * - no part found although the email has content (a multipart without a usable boundary, a
 *   base64 body that decodes to nothing, bytes that are not an email at all): kept whole as
 *   'original' as well;
 * - a header block that never ends (line endings the parser does not know): 'original';
 * - an opaque-signed .p7m whose signed content cannot be read: 'original', parseError says why;
 * - headers only (header fields, an empty line, nothing after it): no parts, which is correct, not a loss.
 * Encrypted email (smime.ts) is 'original' too, by design and without a parseError.
 *
 * Beyond what mailparser does, the handler here unwraps what real mail wraps its content in:
 * uuencode (uuencode.ts, body-uu-files.ts), reports (report.ts), opaque-signed S/MIME (cms.ts),
 * winmail.dat (tnef-parts.ts) and AppleDouble (apple-double.ts); the envelope's email block gets
 * what these say about the email as a whole (report, autoReply, list, signed, encrypted).
 * Errors of the raw stream (the fetch) and of the content store are thrown: the email was
 * not read or could not be stored, and the caller retries.
 */
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { AttachmentStream } from 'mailparser';
import type { ContentStore } from '../model/content-store.ts';
import type { EnvelopeEmail } from '../model/envelope.ts';
import { APPLE_DOUBLE_TYPE, APPLE_FILE_HEAD_BYTES, APPLE_FILE_TYPE, type AppleHeader, readAppleHeader } from './apple-double.ts';
import { declaredType, writeAttachment } from './attachment-part.ts';
import { OOF_MESSAGE_CLASS } from './auto-reply.ts';
import { chooseBody, writeBody, writeBodyBytes } from './body-part.ts';
import { type BodyLines, mayHoldUuFiles, storedLines, takeOutUuFiles } from './body-uu-files.ts';
import { cidReferences } from './cid-references.ts';
import { CmsError, type CmsKind, cmsKind, signedContent } from './cms.ts';
import type { PartInfo } from './email-parser.ts';
import { BODY_RTF_NAME } from './file-names.ts';
import { captureHead } from './head-capture.ts';
import { ORIGINAL_ALONGSIDE_PART_INDEX, type OriginalSource, originalPart, originalSource } from './keep-original.ts';
import { type AttachmentHandler, KeepWholeError, MimeParseError, type ParsedEmail, parseEmail } from './parse-email.ts';
import { REPORT_HEAD_BYTES, ReportReader, reportPartKind } from './report.ts';
import { isPkcs7Mime, MAX_OPAQUE_SIGNED_BYTES, MAX_SIGNED_NESTING, OPAQUE_SIGNED_PROTOCOL, smimeTypeSays } from './smime.ts';
import type { SplitOptions, SplitPart, SplitResult } from './split-part.ts';
import { type StreamedText, streamedBody } from './streamed-body.ts';
import { decodeText, type StreamedTextInfo, TEXT_IN_MEMORY_BYTES } from './streamed-text.ts';
import { isTnef, type TnefMessage } from './tnef.ts';
import { tnefBody, unpackTnef } from './tnef-parts.ts';
import { stringPieces } from './uuencode.ts';

export type { SplitOptions, SplitPart, SplitResult } from './split-part.ts';

/** Parts per email when the caller does not say (the config default, limits.maxPartsPerEmail, is the same): far more than real emails have, few enough to bound the outbox. */
export const DEFAULT_MAX_PARTS_PER_EMAIL = 500;

/** What the parser's handler has written so far. */
interface Written {
  /** MIME attachments seen so far (written or not): the last part index handed out. */
  partCount: number;
  attachments: SplitPart[];
  texts: StreamedText[];
  /** Parts beyond maxParts were not split out. */
  truncated: boolean;
  /** The machine-readable parts of a multipart/report, read as they went by. */
  report?: ReportReader;
  /** An encrypted part was seen: the email is delivered whole. */
  encrypted: boolean;
  /** Opaque-signed S/MIME was unwrapped. */
  opaqueSigned: boolean;
  /** The bodies and traits of the signed entities unwrapped from .p7m parts, in order. */
  inner: ParsedEmail[];
  /** How deep in signed entities the handler is now. */
  depth: number;
  /** The first winmail.dat's message level: its body and message class. */
  tnef?: TnefMessage;
  /** The AppleDouble header part just read, for the data fork that follows it. */
  appleHeader: AppleHeader | undefined;
}

/** Streams `raw` (an RFC 822 email) and writes each emitted part into `content`. */
export async function splitEmail(raw: Readable, options: SplitOptions, content: ContentStore): Promise<SplitResult> {
  const original = await originalSource(raw, options.reopen, content);
  const size = options.size ?? original.size;
  const maxParts = options.maxParts ?? DEFAULT_MAX_PARTS_PER_EMAIL;
  const written: Written = {
    partCount: 0,
    attachments: [],
    texts: [],
    truncated: false,
    encrypted: false,
    opaqueSigned: false,
    inner: [],
    depth: 0,
    appleHeader: undefined,
  };
  try {
    const streamText = size !== undefined && size > TEXT_IN_MEMORY_BYTES;
    const parsed = await parseEmail(original.input, attachmentHandler(options, content, written, maxParts, streamText), { streamText });
    if (written.encrypted || parsed.traits.encrypted || written.inner.some((inner) => inner.traits.encrypted)) {
      return await keptEncrypted(parsed, written, original, content);
    }
    requireSomethingFound(parsed, written.texts);
    const body = await bodyParts(withInnerBody(parsed, written), written, options, content, maxParts);
    written.texts = [];
    const parts = [...body.parts, ...markInline(written.attachments, body.cids)];
    const email = classified(parsed, written);
    if (written.truncated) {
      // Nothing is lost: the whole email goes along with the parts that were split out.
      parts.push(originalPart(await original.keep(), tooManyParts(maxParts), ORIGINAL_ALONGSIDE_PART_INDEX));
      return { email, parts };
    }
    // The parts are safely stored; a spooled copy left behind only wastes space.
    await original.discard().catch(() => undefined);
    return { email, parts };
  } catch (error) {
    await removeQuietly(content, [...written.attachments.map((part) => part.contentRef), ...written.texts.map((text) => text.written.ref)]);
    if (!(error instanceof MimeParseError)) {
      await original.discard();
      throw error;
    }
    return { email: error.email, parts: [originalPart(await original.keep(), error.message)] };
  }
}

/** The envelope's email block with what the parts said about the email as a whole. */
function classified(parsed: ParsedEmail, written: Written): EnvelopeEmail {
  const email: EnvelopeEmail = { ...parsed.email };
  const traits = [parsed.traits, ...written.inner.map((inner) => inner.traits)];
  const reportType = traits.find((trait) => trait.reportType !== undefined)?.reportType;
  if (reportType !== undefined) email.report = (written.report ?? new ReportReader(reportType)).result();
  const protocol = traits.find((trait) => trait.signedProtocol !== undefined)?.signedProtocol ?? (written.opaqueSigned ? OPAQUE_SIGNED_PROTOCOL : undefined);
  if (protocol !== undefined) email.signed = { protocol };
  if (!email.autoReply && written.tnef?.messageClass?.toLowerCase() === OOF_MESSAGE_CLASS.toLowerCase()) {
    email.autoReply = { marker: `TNEF message class: ${written.tnef.messageClass}` };
  }
  return email;
}

/** An email whose only body is inside an opaque signature: the body of what was signed. */
function withInnerBody(parsed: ParsedEmail, written: Written): ParsedEmail {
  if (parsed.text !== undefined || parsed.html !== undefined) return parsed;
  const inner = written.inner.find((entry) => entry.text !== undefined || entry.html !== undefined);
  return inner ? { ...parsed, text: inner.text, html: inner.html } : parsed;
}

/** Encrypted: nothing split out can be read, so the whole email is the one part. */
async function keptEncrypted(parsed: ParsedEmail, written: Written, original: OriginalSource, content: ContentStore): Promise<SplitResult> {
  await removeQuietly(content, [...written.attachments.map((part) => part.contentRef), ...written.texts.map((text) => text.written.ref)]);
  written.attachments = [];
  written.texts = [];
  const email: EnvelopeEmail = { ...classified(parsed, written), encrypted: true };
  return { email, parts: [originalPart(await original.keep(), undefined)] };
}

function tooManyParts(maxParts: number): string {
  return `the email has more than ${maxParts} parts (maxPartsPerEmail): the first ones are split out, the rest only in this original; raise maxPartsPerEmail on the connection (or limits.maxPartsPerEmail) to split them all`;
}

/**
 * Writes each attachment as it comes (or just reads past it), numbering them 1..N in MIME order;
 * at most `maxParts` parts in all (the body counts as one, TNEF children too).
 */
function attachmentHandler(options: SplitOptions, content: ContentStore, written: Written, maxParts: number, streamText: boolean): AttachmentHandler {
  const room = (): number => roomLeft(options, written, maxParts);
  const handler: AttachmentHandler = async (attachment: AttachmentStream, text: StreamedTextInfo | undefined, info: PartInfo | undefined): Promise<void> => {
    if (text) {
      const decoded = decodeText(attachment.content, text);
      const stored = await content.write(decoded);
      written.texts.push({ info: text, written: stored, blank: decoded.blank, cids: decoded.cids });
      return;
    }
    if (written.encrypted || info?.parents.includes('multipart/encrypted')) {
      // The email goes whole; its encrypted parts are of no use split out.
      await finished(attachment.content.resume());
      return;
    }
    const declared = declaredType(attachment);
    const inAppleDouble = info?.parents[0] === APPLE_DOUBLE_TYPE;
    if (inAppleDouble && declared.value === APPLE_FILE_TYPE) {
      // The header part is described on the data fork that follows, not delivered.
      const head = captureHead(attachment.content, APPLE_FILE_HEAD_BYTES);
      await finished(head.resume());
      written.appleHeader = readAppleHeader(head.head);
      return;
    }
    const apple = inAppleDouble ? written.appleHeader : undefined;
    written.appleHeader = undefined;
    if (apple?.realName && !attachment.filename) attachment = { ...attachment, filename: apple.realName };
    written.partCount += 1;
    const partIndex = written.partCount;
    if (isPkcs7Mime(declared.value)) {
      await pkcs7Part(attachment, declared.params, partIndex, info);
      return;
    }
    const reportKind = info?.reportType === undefined ? undefined : reportPartKind(declaredType(attachment).value);
    const capture = reportKind === undefined ? undefined : captureHead(attachment.content, REPORT_HEAD_BYTES);
    if (capture) attachment = { ...attachment, content: capture };
    const readReport = (): void => {
      if (capture && reportKind) (written.report ??= new ReportReader(info?.reportType ?? 'unknown')).read(reportKind, capture.head);
    };
    // winmail.dat is read even when attachments are not sent: the body may be inside.
    const tnef = isTnef(declared.value, attachment.filename ?? '');
    const keep = options.sendAttachments && room() > 0;
    if (options.sendAttachments && !keep) written.truncated = true;
    if (!keep && !tnef) {
      await finished(attachment.content.resume());
      readReport();
      return;
    }
    const part = await writeAttachment(attachment, partIndex, content, info);
    readReport();
    if (apple) part.appleFile = apple.info;
    if (keep) written.attachments.push(part);
    if (!tnef) return;
    try {
      const unpacked = await unpackTnef(part, content, keep ? room() : 0);
      written.attachments.push(...unpacked.parts);
      if (unpacked.truncated && keep) written.truncated = true;
      if (unpacked.message) written.tnef ??= unpacked.message;
    } finally {
      if (!keep) await content.remove(part.contentRef);
    }
  };

  /**
   * application/pkcs7-mime: encrypted (the email goes whole), or signed-data whose content is
   * unwrapped and split by this same handler; the .p7m itself is an attachment as it came.
   */
  async function pkcs7Part(attachment: AttachmentStream, params: Record<string, string>, partIndex: number, info: PartInfo | undefined): Promise<void> {
    const says = smimeTypeSays(params);
    if (says === 'encrypted') {
      written.encrypted = true;
      await finished(attachment.content.resume());
      return;
    }
    // Stored even when attachments are not sent: the body may be inside.
    const part = await writeAttachment(attachment, partIndex, content, info);
    const keep = options.sendAttachments && room() > 0;
    if (options.sendAttachments && !keep) written.truncated = true;
    if (keep) written.attachments.push(part);
    try {
      if (says === undefined || part.size > MAX_OPAQUE_SIGNED_BYTES || written.depth >= MAX_SIGNED_NESTING) return;
      const data = await readStored(content, part.contentRef);
      let kind: CmsKind;
      try {
        kind = cmsKind(data);
      } catch (error) {
        if (error instanceof CmsError && says === 'unknown') return; // not CMS after all: a file like any other
        throw new KeepWholeError(`the S/MIME part ${part.filename} could not be read (${describe(error)}): the email is kept whole`);
      }
      if (kind === 'enveloped-data' || kind === 'auth-enveloped-data') {
        written.encrypted = true;
        return;
      }
      if (kind !== 'signed-data') return;
      let inner: Buffer;
      try {
        inner = signedContent(data);
      } catch (error) {
        throw new KeepWholeError(`the signed content inside ${part.filename} could not be read (${describe(error)}): the email is kept whole`);
      }
      written.opaqueSigned = true;
      written.depth += 1;
      try {
        written.inner.push(await parseEmail(Readable.from([inner]), handler, { streamText }));
      } catch (error) {
        if (error instanceof MimeParseError)
          throw new KeepWholeError(`the signed content inside ${part.filename} is not readable MIME (${error.message}): the email is kept whole`);
        throw error;
      } finally {
        written.depth -= 1;
      }
    } finally {
      if (!keep) await content.remove(part.contentRef);
    }
  }

  return handler;
}

async function readStored(content: ContentStore, ref: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of content.open(ref)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function roomLeft(options: SplitOptions, written: Written, maxParts: number): number {
  return maxParts - (options.sendMessageBody ? 1 : 0) - written.attachments.length;
}

/**
 * A parser that found nothing has misread the email, unless the raw bytes are plainly headers
 * only: header fields, an empty line, nothing but whitespace after it. Anything else (content
 * the parser did not see, a header block that never ends) is kept whole, never dropped.
 */
function requireSomethingFound(parsed: ParsedEmail, streamedTexts: readonly StreamedText[]): void {
  const found = parsed.text !== undefined || parsed.html !== undefined || parsed.attachmentCount > 0 || streamedTexts.some((text) => text.written.size > 0);
  const { shape } = parsed;
  const headersOnly = shape.headerBlockEnded && !shape.bodyHasContent && !shape.strayHeaderLine;
  if (found || headersOnly) return;
  throw new MimeParseError('no body or attachment could be found in the email', parsed.email);
}

async function bodyParts(
  parsed: ParsedEmail,
  written: Written,
  options: SplitOptions,
  content: ContentStore,
  maxParts: number,
): Promise<{ parts: SplitPart[]; cids: ReadonlySet<string> }> {
  const { texts } = written;
  if (texts.length) {
    // A large email: its text parts were streamed, never held.
    const cids = new Set(texts.flatMap((text) => [...text.cids]));
    if (!options.sendMessageBody) {
      await removeQuietly(
        content,
        texts.map((text) => text.written.ref),
      );
      return { parts: [], cids };
    }
    const body = await streamedBody(texts, content);
    if (!body || !isPlainText(body)) return { parts: body ? [body] : [], cids };
    return { parts: await withUuFiles(body, storedLines(content, body.contentRef), written, options, content, maxParts), cids };
  }
  const cids = new Set(cidReferences(parsed.html));
  if (!options.sendMessageBody) return { parts: [], cids };
  let choice = chooseBody(parsed.text, parsed.html);
  if (!choice && written.tnef) {
    // An RTF-only Outlook email: the body is inside winmail.dat.
    const inside = await tnefBody(written.tnef);
    if (inside && 'rtf' in inside) return { parts: [await writeBodyBytes(inside.rtf, BODY_RTF_NAME, 'application/rtf', content)], cids };
    if (inside) choice = chooseBody(inside.text, inside.html);
    if (choice) for (const cid of cidReferences(inside && 'html' in inside ? inside.html : undefined)) cids.add(cid);
  }
  if (!choice) return { parts: [], cids };
  const body = await writeBody(choice, content);
  if (!isPlainText(body) || !mayHoldUuFiles(choice.text)) return { parts: [body], cids };
  const text = choice.text;
  return { parts: await withUuFiles(body, () => stringPieces(text), written, options, content, maxParts), cids };
}

function isPlainText(body: SplitPart): boolean {
  return body.contentType.startsWith('text/plain');
}

/**
 * The body, and each uuencoded file pasted into it as an attachment numbered after the MIME
 * ones (see body-uu-files.ts), and the body without them in place of the first body file.
 */
async function withUuFiles(
  body: SplitPart,
  lines: BodyLines,
  written: Written,
  options: SplitOptions,
  content: ContentStore,
  maxParts: number,
): Promise<SplitPart[]> {
  const taken = await takeOutUuFiles(lines, content, {
    firstIndex: written.partCount + 1,
    room: roomLeft(options, written, maxParts),
    keepFiles: options.sendAttachments,
  });
  if (!taken.text) return [body];
  if (taken.leftInText) written.truncated = true;
  written.partCount += taken.files.length;
  written.attachments.push(...taken.files);
  const text = await content.write(taken.text);
  await content.remove(body.contentRef);
  return [{ ...body, contentRef: text.ref, size: text.size, sha256: text.sha256 }];
}

/** Known only now: the HTML arrives at the end, after the images it shows. */
function markInline(attachments: SplitPart[], referenced: ReadonlySet<string>): SplitPart[] {
  return attachments.map((part) => ({
    ...part,
    inline: part.contentId !== undefined && referenced.has(part.contentId),
  }));
}

async function removeQuietly(content: ContentStore, refs: readonly string[]): Promise<void> {
  // Best effort: a leftover content file wastes space, while failing here would hide the real error.
  await Promise.allSettled(refs.map((ref) => content.remove(ref)));
}
