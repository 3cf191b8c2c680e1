/**
 * Writes MIME by hand for the test corpus: string templates, CRLF line endings, base64 wrapped at
 * 76 characters, quoted-printable, RFC 2047/2231 names, and the expected parts (sha256 of the
 * source bytes, never of our parser's output). makeEmail builds a well-formed email from a
 * simple description.
 */
import { createCipheriv, createHash } from 'node:crypto';

export interface ExpectedPart {
  kind: 'body' | 'attachment' | 'original';
  filename: string;
  sha256: string;
  contentType?: string;
  inline?: boolean;
  method?: string;
  /** An attachment in a transfer encoding nobody decodes: delivered as it came. */
  undecodedEncoding?: string;
  /** The data fork of a Macintosh file: what the envelope says about its header part. */
  appleFile?: { type: string | null; creator: string | null; resourceForkBytes: number };
  /**
   * An email Postroom wrote (an Outlook item from inside winmail.dat): its bytes are Postroom's,
   * so instead of their sha256 (left empty) what an independent parser reads from them is compared.
   */
  parsedAs?: ParsedEmailExpectation;
}

export interface ParsedEmailExpectation {
  subject: string;
  from?: string;
  text?: string;
  html?: string;
  attachments: Array<{ filename: string; sha256: string }>;
}

export interface CorpusEmail {
  name: string;
  raw: Buffer;
  subject: string;
  /**
   * With sendMessageBody and sendAttachments on, in partIndex order (body first). `email` lists
   * the classification the envelope's email block must carry (report, autoReply, list, signed,
   * encrypted); a corpus that states it expects every field it leaves out to be absent.
   */
  expected: { parts: ExpectedPart[]; email?: Record<string, unknown> };
}

export interface AttachmentSpec {
  filename: string;
  content: Buffer;
  /** The type and, at most, a charset parameter: it is also the expected content type. */
  contentType: string;
}

export interface EmailSpec {
  subject: string;
  text?: string;
  html?: string;
  attachments?: AttachmentSpec[];
}

export const CRLF = '\r\n';
/** RFC 2045 6.8: encoded lines are at most 76 characters. */
export const BASE64_LINE = 76;
/** 57 bytes encode to exactly one 76-character base64 line. */
export const BASE64_LINE_BYTES = 57;
/** RFC 2045 6.7: at most 76 characters per line, the soft line break "=" included. */
export const QP_LINE = 76;
export const FROM = '"Postroom Test" <sender@postroom.test>';
export const TO = 'receiver@postroom.test';
export const DATE = 'Tue, 01 Jul 2025 10:00:00 +0000';
export const TEXT_BODY_TYPE = 'text/plain; charset=utf-8';
export const HTML_BODY_TYPE = 'text/html; charset=utf-8';

// ---------------------------------------------------------------------------------------------
// Encoding helpers

export function sha256(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Deterministic pseudo-random bytes (AES-CTR keystream): the same seed gives the same bytes. */
export function pseudoRandomBytes(size: number, seed: string): Buffer {
  return keystream(seed).update(Buffer.alloc(size));
}

export function keystream(seed: string): ReturnType<typeof createCipheriv> {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
}

export function base64Lines(bytes: Buffer): string {
  const encoded = bytes.toString('base64');
  const lines: string[] = [];
  for (let start = 0; start < encoded.length; start += BASE64_LINE) lines.push(encoded.slice(start, start + BASE64_LINE));
  return lines.join(CRLF);
}

/** Quoted-printable (RFC 2045 6.7); CRLF in `bytes` becomes a hard line break. */
export function quotedPrintable(bytes: Buffer): string {
  const lines = bytes.toString('latin1').split(CRLF);
  return lines.map((line) => softWrap(encodeQpLine(Buffer.from(line, 'latin1')))).join(CRLF);
}

export function encodeQpLine(line: Buffer): string[] {
  const tokens: string[] = [];
  line.forEach((byte, index) => {
    const trailingSpace = (byte === 0x20 || byte === 0x09) && index === line.length - 1;
    const literal = (byte >= 33 && byte <= 126 && byte !== 0x3d) || ((byte === 0x20 || byte === 0x09) && !trailingSpace);
    tokens.push(literal ? String.fromCharCode(byte) : `=${byte.toString(16).toUpperCase().padStart(2, '0')}`);
  });
  return tokens;
}

/** Joins tokens (a character or an =XX escape, never split) into lines of at most 76 characters. */
export function softWrap(tokens: string[]): string {
  const lines: string[] = [];
  let current = '';
  for (const token of tokens) {
    if (current.length + token.length > QP_LINE - 1) {
      lines.push(`${current}=`);
      current = '';
    }
    current += token;
  }
  lines.push(current);
  return lines.join(CRLF);
}

export function crlf(text: string): string {
  return text.replace(/\r?\n/g, CRLF);
}

/** RFC 2047 B encoding for a header value that is not plain ASCII. */
export function encodedWord(text: string): string {
  return /^[\x20-\x7e]*$/.test(text) ? text : `=?UTF-8?B?${Buffer.from(text, 'utf8').toString('base64')}?=`;
}

/** RFC 2231 for a non-ASCII file name, a quoted string otherwise. */
export function filenameParam(name: string): string {
  if (/^[\x20-\x7e]*$/.test(name) && !/["\\]/.test(name)) return `filename="${name}"`;
  return `filename*=utf-8''${encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
}

export function headers(subject: string, messageId: string, extra: string[]): string {
  return [
    `From: ${FROM}`,
    `To: ${TO}`,
    `Subject: ${encodedWord(subject)}`,
    `Date: ${DATE}`,
    `Message-ID: <${messageId}@postroom.test>`,
    'MIME-Version: 1.0',
    ...extra,
  ].join(CRLF);
}

// ---------------------------------------------------------------------------------------------
// Expected parts

export function textBody(text: string): ExpectedPart {
  return { kind: 'body', filename: 'body.txt', sha256: sha256(Buffer.from(text, 'utf8')), contentType: TEXT_BODY_TYPE };
}

export function htmlBody(html: string): ExpectedPart {
  return { kind: 'body', filename: 'body.html', sha256: sha256(Buffer.from(html, 'utf8')), contentType: HTML_BODY_TYPE };
}

export function attachment(filename: string, content: Buffer, contentType: string, extra: Partial<ExpectedPart> = {}): ExpectedPart {
  return { kind: 'attachment', filename, sha256: sha256(content), contentType, ...extra };
}

// ---------------------------------------------------------------------------------------------
// MIME building blocks (each returns the part: headers, blank line, body; no boundary lines)

export function qpTextPart(type: string, text: string, charset = 'utf-8', encode = (t: string): Buffer => Buffer.from(t, 'utf8')): string {
  return [`Content-Type: ${type}; charset=${charset}`, 'Content-Transfer-Encoding: quoted-printable', '', quotedPrintable(encode(crlf(text)))].join(CRLF);
}

export function base64Part(headerLines: string[], content: Buffer): string {
  return [...headerLines, 'Content-Transfer-Encoding: base64', '', base64Lines(content)].join(CRLF);
}

/** A multipart body: each part, then the closing delimiter (omitted for the malformed case). */
export function multipart(boundary: string, parts: string[], close = true): string {
  const body = parts.map((part) => `--${boundary}${CRLF}${part}${CRLF}`).join('');
  return close ? `${body}--${boundary}--${CRLF}` : body;
}

export function email(headerBlock: string, body: string): Buffer {
  return Buffer.from(`${headerBlock}${CRLF}${CRLF}${body}`, 'utf8');
}

// ---------------------------------------------------------------------------------------------
// makeEmail: a well-formed email from a simple description

/**
 * text and/or html (multipart/alternative when both), then each attachment base64-encoded, all in
 * a multipart/mixed: there the body ends at a boundary, so a text without a final newline comes
 * back exactly as given even from a server that ends the message with one. Nothing at all gives
 * a headers-only email.
 */
export function makeEmail(spec: EmailSpec): CorpusEmail {
  const id = sha256(`${spec.subject}\u0000${spec.text ?? ''}\u0000${spec.html ?? ''}`).slice(0, 16);
  const bodyPart = makeBodyPart(spec, id);
  const attachments = spec.attachments ?? [];
  const parts = [...(bodyPart ? [bodyPart] : []), ...attachments.map(attachmentPart)];
  const raw =
    parts.length === 0
      ? email(headers(spec.subject, id, []), '')
      : email(headers(spec.subject, id, [`Content-Type: multipart/mixed; boundary="=_mixed_${id}"`]), multipart(`=_mixed_${id}`, parts.map(joinPart)));
  const expectedBody = spec.text !== undefined ? [textBody(spec.text)] : spec.html !== undefined ? [htmlBody(spec.html)] : [];
  return {
    name: spec.subject,
    raw,
    subject: spec.subject,
    expected: {
      parts: [...expectedBody, ...attachments.map((a) => attachment(a.filename, a.content, a.contentType))],
    },
  };
}

export interface PartSource {
  head: string;
  body: string;
}

export function splitPart(part: string): PartSource {
  const end = part.indexOf(`${CRLF}${CRLF}`);
  return { head: part.slice(0, end), body: part.slice(end + 4) };
}

export function joinPart(part: PartSource): string {
  return `${part.head}${CRLF}${CRLF}${part.body}`;
}

export function makeBodyPart(spec: EmailSpec, id: string): PartSource | undefined {
  const text = spec.text === undefined ? undefined : qpTextPart('text/plain', spec.text);
  const html = spec.html === undefined ? undefined : qpTextPart('text/html', spec.html);
  if (text !== undefined && html !== undefined) {
    return {
      head: `Content-Type: multipart/alternative; boundary="=_alt_${id}"`,
      body: multipart(`=_alt_${id}`, [text, html]),
    };
  }
  const single = text ?? html;
  return single === undefined ? undefined : splitPart(single);
}

export function attachmentPart(spec: AttachmentSpec): PartSource {
  return splitPart(base64Part([`Content-Type: ${spec.contentType}`, `Content-Disposition: attachment; ${filenameParam(spec.filename)}`], spec.content));
}
