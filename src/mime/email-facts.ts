/**
 * The facts a filter and routes judge an email by (src/filter/email-facts.ts), read from its
 * header section (which every protocol gives before the body: IMAP BODY.PEEK[HEADER], POP3
 * TOP n 0) and, once split, from its parts. The auto-reply markers are the ones the envelope's
 * `autoReply` reports (auto-reply.ts), so a filter and a pipeline's own routing agree.
 */
import type { Readable } from 'node:stream';
import { type AddressObject, type EmailAddress, simpleParser } from 'mailparser';
import type { AttachmentFact, EmailFacts } from '../filter/email-facts.ts';
import type { EnvelopeEmail } from '../model/envelope.ts';
import { autoReplyMarker } from './auto-reply.ts';
import { rawHeaderValue } from './envelope-email.ts';

/** Header sections longer than this are cut (the facts are in the first lines of any real email). */
export const MAX_HEAD_BYTES = 256 * 1024;

function addresses(header: AddressObject | AddressObject[] | undefined): string[] {
  if (!header) return [];
  const flatten = (address: EmailAddress): EmailAddress[] => (address.group ? address.group.flatMap(flatten) : [address]);
  return (Array.isArray(header) ? header : [header])
    .flatMap((object) => object.value.flatMap(flatten))
    .map((address) => address.address ?? '')
    .filter((address) => address !== '');
}

/** Facts from the raw header section (the blank line after it may be missing). */
export async function headerFacts(head: Buffer, size?: number): Promise<EmailFacts> {
  const section = head.subarray(0, MAX_HEAD_BYTES);
  const parsed = await simpleParser(Buffer.concat([section, Buffer.from('\r\n\r\n')]), {
    skipHtmlToText: true,
    skipTextToHtml: true,
    skipImageLinks: true,
    skipTextLinks: true,
  });
  const lines = parsed.headerLines ?? [];
  const header = (key: string): string | null => rawHeaderValue(lines, key);
  const deliveredTo = lines
    .filter((line) => line.key === 'delivered-to')
    .map((line) =>
      line.line
        .slice(line.line.indexOf(':') + 1)
        .trim()
        .replace(/^<|>$/g, ''),
    )
    .filter((address) => address !== '');
  const contentType = parsed.headers.get('content-type') as { value?: string; params?: Record<string, string> } | undefined;
  const facts: EmailFacts = {
    from: addresses(parsed.from)[0]?.toLowerCase() ?? null,
    recipients: [...addresses(parsed.to), ...addresses(parsed.cc), ...deliveredTo],
    subject: parsed.subject ?? null,
    autoReply: autoReplyMarker(header)?.marker ?? null,
    bounce: contentType?.value?.toLowerCase() === 'multipart/report' && contentType.params?.['report-type']?.toLowerCase() === 'delivery-status',
  };
  if (size !== undefined) facts.size = size;
  return facts;
}

/** The header section at the start of a raw email: up to the first blank line, at most MAX_HEAD_BYTES. */
export async function readHead(raw: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of raw) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
      chunks.push(buffer);
      length += buffer.length;
      const sofar = Buffer.concat(chunks);
      const end = blankLineAt(sofar);
      if (end >= 0) return sofar.subarray(0, end);
      if (length >= MAX_HEAD_BYTES) return sofar.subarray(0, MAX_HEAD_BYTES);
    }
    return Buffer.concat(chunks);
  } finally {
    raw.destroy();
  }
}

function blankLineAt(buffer: Buffer): number {
  const crlf = buffer.indexOf('\r\n\r\n');
  const lf = buffer.indexOf('\n\n');
  if (crlf < 0) return lf;
  if (lf < 0) return crlf;
  return Math.min(crlf, lf);
}

/** The facts once the email is split: its header facts, with every attachment and the split's own classification. */
export function splitFacts(head: EmailFacts, email: EnvelopeEmail, attachments: AttachmentFact[]): EmailFacts {
  return {
    ...head,
    autoReply: head.autoReply ?? email.autoReply?.marker ?? null,
    bounce: head.bounce || email.report?.type === 'delivery-status',
    attachments: { list: attachments, complete: true },
  };
}
