/**
 * Splits one raw email into pipeline message parts: the body (text/plain, else HTML, as UTF-8)
 * and each attachment byte-exact, each written into the content store as it streams by.
 *
 * Parser: mailparser's MailParser stream, chosen over postal-mime by measurement
 * (bench/mime-parsers.ts; 2 vCPUs shared with other work, so times varied by up to ±40% between
 * runs while memory stayed within a few MB):
 *
 *   | parser            | workload                   | time (ms) | peak RSS (MB) | RSS growth (MB) |
 *   | mailparser        | 1 email, 100 MB attachment |      1434 |           161 |              60 |
 *   | postal-mime       | 1 email, 100 MB attachment |      2415 |           660 |             562 |
 *   | splitEmail+memory | 1 email, 100 MB attachment |      1864 |           155 |              54 |
 *   | splitEmail+fs     | 1 email, 100 MB attachment |      2654 |           154 |              54 |
 *   | mailparser        | 2000 small emails          |      2695 |           170 |              72 |
 *   | postal-mime       | 2000 small emails          |      1071 |           150 |              54 |
 *   | splitEmail+memory | 2000 small emails          |      2622 |           174 |              74 |
 *   | splitEmail+fs     | 2000 small emails          |      6232 |           156 |              55 |
 *
 * postal-mime holds the whole email, decoded, several times over: 562 MB for a 100 MB attachment,
 * so a 200 MB attachment needs over 1 GB. MailParser's memory does not grow with the attachment
 * (the same ~55 MB of garbage-collector slack for 20, 100 or 300 MB), it hands each attachment
 * out as a stream that waits for the content store, and it keeps text attachments byte-exact
 * where postal-mime rewrote CRLF to LF (the corpus CSV and .ics). postal-mime is 2-3 times
 * faster on small emails (~0.5 ms against ~1.3 ms each), which does not matter next to fetching
 * an email and fsyncing its parts (splitEmail+fs: ~3 ms an email).
 *
 * Memory: attachments stream; the body (text/plain or HTML) is held whole, because mailparser
 * decodes its charset in one piece. A body of hundreds of MB would need that much memory (and
 * over ~512 MB exceeds V8's string limit), which is what a size limit on emails is for.
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
 * - headers only (no body): no parts, which is correct, not a loss.
 * Errors of the raw stream (the fetch) and of the content store are thrown: the email was
 * not read or could not be stored, and the caller retries.
 */
import { Readable } from 'node:stream';
import libmime from 'libmime';
import { finished } from 'node:stream/promises';
import type { AttachmentStream } from 'mailparser';
import type { ContentStore } from '../store/content/content-store.ts';
import { writeAttachment } from './attachment-part.ts';
import { chooseBody, writeBody } from './body-part.ts';
import { cidReferences } from './cid-references.ts';
import { cleanFileName, fallbackAttachmentName } from './file-names.ts';
import { TnefError, isTnef, parseTnef } from './tnef.ts';
import { originalPart, originalSource } from './keep-original.ts';
import { MimeParseError, parseEmail, type AttachmentHandler, type ParsedEmail } from './parse-email.ts';
import type { SplitOptions, SplitPart, SplitResult } from './split-part.ts';

export type { SplitOptions, SplitPart, SplitResult } from './split-part.ts';

/** Streams `raw` (an RFC 822 email) and writes each emitted part into `content`. */
export async function splitEmail(raw: Readable, options: SplitOptions, content: ContentStore): Promise<SplitResult> {
  const original = await originalSource(raw, options.reopen, content);
  const attachments: SplitPart[] = [];
  try {
    const parsed = await parseEmail(original.input, attachmentHandler(options, content, attachments));
    requireSomethingFound(parsed);
    const parts = [...(await bodyParts(parsed, options, content)), ...markInline(attachments, parsed.html)];
    // The parts are safely stored; a spooled copy left behind only wastes space.
    await original.discard().catch(() => undefined);
    return { email: parsed.email, parts };
  } catch (error) {
    await removeQuietly(content, attachments);
    if (!(error instanceof MimeParseError)) {
      await original.discard();
      throw error;
    }
    return { email: error.email, parts: [originalPart(await original.keep(), error.message)] };
  }
}

/** Writes each attachment as it comes (or just reads past it), numbering them 1..N in MIME order. */
function attachmentHandler(options: SplitOptions, content: ContentStore, emitted: SplitPart[]): AttachmentHandler {
  let partIndex = 0;
  return async (attachment: AttachmentStream): Promise<void> => {
    partIndex += 1;
    if (!options.sendAttachments) {
      await finished(attachment.content.resume());
      return;
    }
    const part = await writeAttachment(attachment, partIndex, content);
    emitted.push(part);
    if (isTnef(part.contentType, part.filename)) emitted.push(...(await unpackTnef(part, content)));
  };
}

/** winmail.dat larger than this is kept whole only: unpacking reads it into memory. */
const MAX_TNEF_BYTES = 64 * 1024 * 1024;
/** The piece size the content store is handed unpacked files in: what a file read gives at a time. */
const WRITE_SLICE_BYTES = 64 * 1024;
/** Unpacked files are numbered after their winmail.dat's own index: 3 -> 30001, 30002, ... */
const TNEF_CHILD_BASE = 10_000;

/**
 * Outlook's winmail.dat: each file inside becomes its own part as well (the original stays,
 * so nothing is lost if a reader downstream wants it). One it cannot read is only kept whole.
 */
async function unpackTnef(part: SplitPart, content: ContentStore): Promise<SplitPart[]> {
  if (part.size > MAX_TNEF_BYTES) return [];
  const chunks: Buffer[] = [];
  for await (const chunk of content.open(part.contentRef)) chunks.push(chunk as Buffer);
  let files;
  try {
    files = await parseTnef(Buffer.concat(chunks));
  } catch (error) {
    if (error instanceof TnefError) return [];
    throw error;
  }
  const parts: SplitPart[] = [];
  for (const [index, file] of files.entries()) {
    const written = await content.write(Readable.from(slices(file.data)));
    parts.push({
      kind: 'attachment',
      partIndex: part.partIndex * TNEF_CHILD_BASE + index + 1,
      filename: cleanFileName(file.filename) ?? fallbackAttachmentName(part.partIndex * TNEF_CHILD_BASE + index + 1, 'application/octet-stream'),
      contentType: libmime.detectMimeType(file.filename) || 'application/octet-stream',
      contentRef: written.ref,
      size: written.size,
      sha256: written.sha256,
    });
  }
  return parts;
}

/** Hands a large buffer to the content store in pieces, so hashing it never holds the event loop for long. */
function* slices(data: Buffer): Generator<Buffer> {
  for (let at = 0; at < data.length; at += WRITE_SLICE_BYTES) yield data.subarray(at, at + WRITE_SLICE_BYTES);
}

/**
 * A parser that found nothing has misread the email, unless the raw bytes are plainly headers
 * only: header fields, an empty line, nothing but whitespace after it. Anything else (content
 * the parser did not see, a header block that never ends) is kept whole, never dropped.
 */
function requireSomethingFound(parsed: ParsedEmail): void {
  const found = parsed.text !== undefined || parsed.html !== undefined || parsed.attachmentCount > 0;
  const { shape } = parsed;
  const headersOnly = shape.headerBlockEnded && !shape.bodyHasContent && !shape.strayHeaderLine;
  if (found || headersOnly) return;
  throw new MimeParseError('no body or attachment could be found in the email', parsed.email);
}

async function bodyParts(parsed: ParsedEmail, options: SplitOptions, content: ContentStore): Promise<SplitPart[]> {
  const body = options.sendMessageBody ? chooseBody(parsed.text, parsed.html) : undefined;
  return body ? [await writeBody(body, content)] : [];
}

/** Known only now: the HTML arrives at the end, after the images it shows. */
function markInline(attachments: SplitPart[], html: string | undefined): SplitPart[] {
  const referenced = cidReferences(html);
  return attachments.map((part) => ({
    ...part,
    inline: part.contentId !== undefined && referenced.has(part.contentId),
  }));
}

async function removeQuietly(content: ContentStore, parts: readonly SplitPart[]): Promise<void> {
  // Best effort: a leftover content file wastes space, while failing here would hide the real error.
  await Promise.allSettled(parts.map((part) => content.remove(part.contentRef)));
}
