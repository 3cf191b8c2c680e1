/**
 * An Outlook item found inside winmail.dat (an email attached to an email), written out as an
 * RFC 5322 email so it can be delivered like any attached email: as one `.eml` pipeline message.
 *
 * The headers are the Internet headers the item arrived with (PR_TRANSPORT_MESSAGE_HEADERS) when
 * TNEF kept them, its own MIME headers left out; otherwise From, Subject, Date and Message-ID are
 * written from its properties. The body is its text and/or HTML (multipart/alternative when
 * both), or what its compressed RTF encapsulates, or the RTF as body.rtf; its files follow as
 * base64 attachments, and items inside it as message/rfc822 parts. The output is a function of
 * the input alone (the boundary is derived from the content), so a redelivery is the same bytes.
 */
import { createHash } from 'node:crypto';
import libmime from 'libmime';
import { decompressRtf, deencapsulate, RtfError } from './rtf.ts';
import type { TnefMessage } from './tnef.ts';

const CRLF = '\r\n';
const BASE64_LINE = 76;
const MIME_HEADERS = /^(content-[a-z-]*|mime-version)$/i;

export async function tnefMessageEmail(message: TnefMessage): Promise<Buffer> {
  return Buffer.from(await entity(message), 'utf8');
}

async function entity(message: TnefMessage): Promise<string> {
  const head = topHeaders(message);
  const body = await bodyParts(message);
  const inner: string[] = [];
  for (const item of message.messages)
    inner.push(['Content-Type: message/rfc822', 'Content-Disposition: attachment', '', await entity(item.message)].join(CRLF));
  const parts = [...body, ...message.attachments.map((file) => base64Part(file.data, contentTypeFor(file.filename), file.filename)), ...inner];
  if (parts.length === 1 && message.attachments.length === 0 && message.messages.length === 0) {
    return [...head, 'MIME-Version: 1.0', parts[0]!].join(CRLF);
  }
  const boundary = `=_postroom_tnef_${createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 24)}`;
  return [
    ...head,
    'MIME-Version: 1.0',
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    '',
    ...parts.map((part) => `--${boundary}${CRLF}${part}`),
    `--${boundary}--`,
    '',
  ].join(CRLF);
}

function topHeaders(message: TnefMessage): string[] {
  if (message.transportHeaders) {
    const lines = message.transportHeaders
      .replace(/\r?\n/g, CRLF)
      .replace(/(\r\n)+$/, '')
      .split(CRLF);
    const kept: string[] = [];
    let skipping = false;
    for (const line of lines) {
      if (/^[ \t]/.test(line)) {
        if (!skipping) kept.push(line);
        continue;
      }
      const name = line.slice(0, Math.max(0, line.indexOf(':')));
      skipping = MIME_HEADERS.test(name.trim()) || name === '';
      if (!skipping) kept.push(line);
    }
    return kept;
  }
  const head: string[] = [];
  if (message.from) head.push(`From: ${addressText(message.from)}`);
  if (message.subject) head.push(`Subject: ${headerText(message.subject)}`);
  if (message.date) head.push(`Date: ${new Date(message.date).toUTCString().replace('GMT', '+0000')}`);
  if (message.messageId) head.push(`Message-ID: ${message.messageId}`);
  return head;
}

/** The body as one part (or a multipart/alternative of text and HTML); none when the item has no body. */
async function bodyParts(message: TnefMessage): Promise<string[]> {
  let { text, html } = message;
  let rtf: Buffer | undefined;
  if (text === undefined && html === undefined && message.compressedRtf) {
    try {
      const raw = decompressRtf(message.compressedRtf);
      const inside = await deencapsulate(raw);
      if (inside.kind === 'html') html = inside.text;
      else if (inside.kind === 'text') text = inside.text;
      else rtf = raw;
    } catch (error) {
      if (!(error instanceof RtfError)) throw error;
    }
  }
  if (rtf) return [base64Part(rtf, 'application/rtf', 'body.rtf')];
  const renderings = [...(text === undefined ? [] : [textPart('text/plain', text)]), ...(html === undefined ? [] : [textPart('text/html', html)])];
  if (renderings.length < 2) return renderings;
  const boundary = `=_postroom_alt_${createHash('sha256').update(renderings.join('\u0000')).digest('hex').slice(0, 24)}`;
  return [
    [`Content-Type: multipart/alternative; boundary="${boundary}"`, '', ...renderings.map((part) => `--${boundary}${CRLF}${part}`), `--${boundary}--`].join(
      CRLF,
    ),
  ];
}

function textPart(type: string, text: string): string {
  return base64Part(Buffer.from(text, 'utf8'), `${type}; charset=utf-8`, undefined, true);
}

function base64Part(data: Buffer, type: string, filename: string | undefined, inline = false): string {
  const encoded = data.toString('base64');
  const lines: string[] = [];
  for (let at = 0; at < encoded.length; at += BASE64_LINE) lines.push(encoded.slice(at, at + BASE64_LINE));
  const disposition = inline ? [] : [`Content-Disposition: attachment${filename ? `; filename*=utf-8''${encodeURIComponent(filename)}` : ''}`];
  return [`Content-Type: ${type}`, ...disposition, 'Content-Transfer-Encoding: base64', '', ...lines].join(CRLF);
}

function contentTypeFor(filename: string): string {
  return libmime.detectMimeType(filename) || 'application/octet-stream';
}

/** `Name <address>` with only the name encoded when it needs to be. */
function addressText(value: string): string {
  const at = value.lastIndexOf(' <');
  if (at === -1) return headerText(value);
  const name = value.slice(0, at);
  return `${/^[\x20-\x7e]*$/.test(name) ? `"${name.replace(/["\\]/g, '\\$&')}"` : headerText(name)}${value.slice(at)}`;
}

/** A header value: as it is when it is printable ASCII, else an RFC 2047 encoded word. */
function headerText(value: string): string {
  const line = value.replace(/[\r\n]+/g, ' ');
  return /^[\x20-\x7e]*$/.test(line) ? line : `=?UTF-8?B?${Buffer.from(line, 'utf8').toString('base64')}?=`;
}
