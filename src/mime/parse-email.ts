/**
 * Runs the parser over one raw email. Attachments are handed out one at a time as streams, and
 * the parser waits (reads no more of the raw email) until the handler has consumed one; the text
 * and the headers come back at the end. Failures are sorted by where they came from, because the
 * caller treats them differently: the raw stream (fetch problem, rethrown), the handler (content
 * store problem, rethrown) or the parser (bad MIME, kept as the original).
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { AttachmentStream, MailParser, MessageText } from 'mailparser';
import type { EnvelopeEmail } from '../model/envelope.ts';
import { createEmailParser, type EmailTraits, type PartInfo } from './email-parser.ts';
import { envelopeEmail } from './envelope-email.ts';
import { BareCrLineEnds } from './line-endings.ts';
import { RawShape, type RawShapeReport } from './raw-shape.ts';
import type { StreamedTextInfo } from './streamed-text.ts';

export interface ParsedEmail {
  email: EnvelopeEmail;
  /** Decoded to UTF-8, line endings LF; undefined when there is no text/plain part (or it is empty). */
  text: string | undefined;
  html: string | undefined;
  /** Attachments handed out, not counting body text parts handed out as streams. */
  attachmentCount: number;
  shape: RawShapeReport;
  traits: EmailTraits;
}

/**
 * `text` is set for a body text part handed out as a stream (parseEmail's `streamText`); `part`
 * says what the parser learnt about the part beyond its headers.
 */
export type AttachmentHandler = (attachment: AttachmentStream, text: StreamedTextInfo | undefined, part: PartInfo | undefined) => Promise<void>;

/** The MIME could not be parsed; `email` holds whatever the top headers gave before that. */
export class MimeParseError extends Error {
  readonly email: EnvelopeEmail;

  constructor(message: string, email: EnvelopeEmail, cause?: unknown) {
    super(message, { cause });
    this.name = 'MimeParseError';
    this.email = email;
  }
}

/**
 * Thrown by an attachment handler that finds the email cannot be split after all (signed content
 * that cannot be read): the email is kept whole, as for bad MIME.
 */
export class KeepWholeError extends Error {}

interface Failures {
  source?: unknown;
  parser?: unknown;
  handler?: unknown;
}

export async function parseEmail(raw: Readable, onAttachment: AttachmentHandler, options: { streamText?: boolean } = {}): Promise<ParsedEmail> {
  const { parser, parts, traits, streamedText } = createEmailParser(options);
  const shape = new RawShape();
  const failures: Failures = {};
  raw.once('error', (error: unknown) => (failures.source ??= error));
  parser.once('error', (error: unknown) => (failures.parser ??= error));
  const fed = pipeline(raw, new BareCrLineEnds(), shape, parser).catch((error: unknown) => error);

  let text: MessageText | undefined;
  let attachmentCount = 0;
  try {
    for await (const data of parser as AsyncIterable<AttachmentStream | MessageText>) {
      if (data.type === 'text') {
        text = data;
        continue;
      }
      const streamed = streamedText?.get(data.headers);
      // A body text handed out as a stream is text, not an attachment: the caller judges it by what it held.
      if (!streamed) attachmentCount += 1;
      await handOut(parser, data, streamed, parts.get(data.headers), onAttachment, failures);
    }
  } catch (error) {
    // A handler failure is already recorded; anything else thrown here came from the parser.
    if (failures.handler === undefined) failures.parser ??= error;
  }
  const fedError = await fed;
  throwFailure(failures, parser, fedError);
  return {
    email: envelopeEmail(parser),
    text: text?.text || undefined,
    html: text?.html || undefined,
    attachmentCount,
    shape,
    traits,
  };
}

/**
 * Gives one attachment to the handler and releases it afterwards: release() lets the parser go
 * on, and mailparser stops honouring backpressure on a released attachment, so releasing any
 * earlier would let it buffer the rest of the attachment in memory.
 */
async function handOut(
  parser: MailParser,
  attachment: AttachmentStream,
  text: StreamedTextInfo | undefined,
  part: PartInfo | undefined,
  onAttachment: AttachmentHandler,
  failures: Failures,
): Promise<void> {
  // If the parser dies mid-attachment the content stream would never end and the handler would
  // wait forever; ending it with an error lets the handler fail and the failure surface.
  const abandon = (): void => {
    attachment.content.destroy(new Error('the email parser stopped in the middle of an attachment'));
  };
  parser.once('close', abandon);
  parser.once('error', abandon);
  // The handler may not have attached its reader yet when that happens (a content store first
  // creating its directory); without a listener the error would crash the process. The reader
  // still gets the error: it finds the stream destroyed with it.
  attachment.content.on('error', ignoreUntilRead);
  try {
    await onAttachment(attachment, text, part);
  } catch (error) {
    failures.handler = error;
    throw error;
  } finally {
    parser.off('close', abandon);
    parser.off('error', abandon);
  }
  attachment.release?.();
}

function ignoreUntilRead(): void {
  // See handOut.
}

function throwFailure(failures: Failures, parser: MailParser, fedError: unknown): void {
  if (failures.source !== undefined) throw failures.source;
  if (failures.parser !== undefined) {
    throw new MimeParseError(`the email could not be parsed: ${describe(failures.parser)}`, envelopeEmail(parser), failures.parser);
  }
  if (failures.handler instanceof KeepWholeError) throw new MimeParseError(failures.handler.message, envelopeEmail(parser), failures.handler);
  if (failures.handler !== undefined) throw failures.handler;
  if (fedError !== undefined) {
    throw new MimeParseError(`the email could not be parsed: ${describe(fedError)}`, envelopeEmail(parser), fedError);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
