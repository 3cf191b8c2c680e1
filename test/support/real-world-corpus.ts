/**
 * Emails the way old and unusual clients and servers send them, one per case, each written by
 * hand from its format's specification (uuencode as in POSIX and RFC 1341 7.1's x-token rule,
 * BinHex 4.0 (RFC 1741), AppleDouble (RFC 1740), TNEF (MS-OXTNEF) with compressed RTF
 * (MS-OXRTFCP), S/MIME (RFC 8551) with CMS (RFC 5652), PGP/MIME (RFC 3156), delivery status
 * notifications (RFC 3464), disposition notifications (RFC 8098), feedback reports (RFC 5965),
 * auto-replies (RFC 3834) and list headers (RFC 2919)). As in corpus.ts, every expected sha256
 * is computed from the bytes that went in, never from our parser's output, and `expected.email`
 * states the classification the envelope carries.
 *
 * Kept apart from corpus.ts, which every protocol's tests deliver: these run once through the
 * splitter and once through a real IMAP pickup.
 */
import { createHash } from 'node:crypto';
import {
  attachment,
  base64Lines,
  base64Part,
  CRLF,
  crlf,
  email,
  headers,
  htmlBody,
  multipart,
  pseudoRandomBytes,
  qpTextPart,
  sha256,
  textBody,
  type CorpusEmail,
  type ExpectedPart,
} from './mime-writer.ts';

export { type CorpusEmail } from './mime-writer.ts';

// ---------------------------------------------------------------------------------------------
// Encoders, written from the formats (never from src/)

/** uuencode: `begin <mode> <name>`, lines of 45 bytes, each byte triple as four 32+6-bit characters (a backtick for 0). */
export function uuencode(data: Buffer, name: string, mode = '644'): string {
  const lines = [`begin ${mode} ${name}`];
  const char = (value: number): string => String.fromCharCode(value === 0 ? 0x60 : 0x20 + value);
  for (let start = 0; start < data.length; start += 45) {
    const chunk = data.subarray(start, start + 45);
    let line = char(chunk.length);
    for (let at = 0; at < chunk.length; at += 3) {
      const [a, b, c] = [chunk[at] ?? 0, chunk[at + 1] ?? 0, chunk[at + 2] ?? 0];
      line += char(a >> 2) + char(((a & 0x03) << 4) | (b >> 4)) + char(((b & 0x0f) << 2) | (c >> 6)) + char(c & 0x3f);
    }
    lines.push(line);
  }
  lines.push('`', 'end');
  return lines.join(CRLF);
}

/** CRC-16/XMODEM (polynomial 0x1021, initial 0), the checksum BinHex 4.0 uses. */
function crc16(data: Buffer): number {
  let crc = 0;
  for (const byte of data) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit += 1) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

function withCrc(data: Buffer): Buffer {
  const crc = Buffer.alloc(2);
  crc.writeUInt16BE(crc16(Buffer.concat([data, Buffer.alloc(2)])));
  return Buffer.concat([data, crc]);
}

/** BinHex 4.0 (RFC 1741): header, data fork and resource fork with their CRCs, 0x90 escaped, 6 bits a character, 64 a line. */
export function binhex(name: string, dataFork: Buffer, resourceFork: Buffer, type = 'TEXT', creator = 'ttxt'): string {
  const nameBytes = Buffer.from(name, 'latin1');
  const header = Buffer.alloc(1 + nameBytes.length + 1 + 4 + 4 + 2 + 4 + 4);
  let at = 0;
  header[at++] = nameBytes.length;
  nameBytes.copy(header, at);
  at += nameBytes.length;
  header[at++] = 0;
  header.write(type, at, 'latin1');
  header.write(creator, at + 4, 'latin1');
  at += 10; // type, creator, flags (0)
  header.writeUInt32BE(dataFork.length, at);
  header.writeUInt32BE(resourceFork.length, at + 4);
  const raw = Buffer.concat([withCrc(header), withCrc(dataFork), withCrc(resourceFork)]);
  const escaped: number[] = [];
  for (const byte of raw) escaped.push(...(byte === 0x90 ? [0x90, 0x00] : [byte]));
  const alphabet = '!"#$%&\'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr';
  let bits = 0;
  let count = 0;
  let text = ':';
  for (const byte of escaped) {
    bits = (bits << 8) | byte;
    count += 8;
    while (count >= 6) {
      count -= 6;
      text += alphabet[(bits >> count) & 0x3f];
    }
    bits &= (1 << count) - 1;
  }
  if (count > 0) text += alphabet[(bits << (6 - count)) & 0x3f];
  text += ':';
  const lines = ['(This file must be converted with BinHex 4.0)', ''];
  for (let start = 0; start < text.length; start += 64) lines.push(text.slice(start, start + 64));
  return lines.join(CRLF);
}

// ---------------------------------------------------------------------------------------------
// Sample contents

const PNG_SIGNATURE = Buffer.from('89504e470d0a1a0a', 'hex');

function pngLike(seed: string, size: number): Buffer {
  return Buffer.concat([PNG_SIGNATURE, pseudoRandomBytes(size - PNG_SIGNATURE.length, seed)]);
}

function mixed(subject: string, id: string, parts: string[], extraHeaders: string[] = []): Buffer {
  const boundary = `=_${id}`;
  return email(headers(subject, id, [...extraHeaders, `Content-Type: multipart/mixed; boundary="${boundary}"`]), multipart(boundary, parts));
}

function textPart(text: string): string {
  return qpTextPart('text/plain', text);
}

// ---------------------------------------------------------------------------------------------
// Transfer encodings

/** One attachment sent uuencoded under `encoding` (x-uuencode, uuencode, x-uue, uue). */
function uuencodedAttachment(encoding: string): CorpusEmail {
  const png = pngLike(`redball-${encoding}`, 1453);
  const subject = `Attachment sent as ${encoding}`;
  const text = `A picture, uuencoded as ${encoding}.\n`;
  const raw = mixed(subject, `uu-${encoding}`, [
    textPart(text),
    ['Content-Type: image/png; name="redball.png"', `Content-Transfer-Encoding: ${encoding}`, 'Content-Disposition: attachment; filename="redball.png"', '', uuencode(png, 'redball.png')].join(CRLF),
  ]);
  return { name: `transfer-${encoding}`, subject, raw, expected: { parts: [textBody(text), attachment('redball.png', png, 'image/png')], email: {} } };
}

/** uuencoded, with the name only on the begin line (Outlook Express did this). */
function uuencodedNameOnBeginLine(): CorpusEmail {
  const data = pseudoRandomBytes(700, 'begin-line-name');
  const subject = 'Uuencoded, named on the begin line';
  const text = 'The file name is only on the begin line.\n';
  const raw = mixed(subject, 'uu-begin-name', [
    textPart(text),
    ['Content-Type: application/octet-stream', 'Content-Transfer-Encoding: x-uuencode', '', uuencode(data, 'C:\\Exports\\ledger.dat')].join(CRLF),
  ]);
  return { name: 'transfer-uuencode-name-on-begin-line', subject, raw, expected: { parts: [textBody(text), attachment('ledger.dat', data, 'application/octet-stream')], email: {} } };
}

/** Two files pasted uuencoded into a plain-text body, with text before, between and after. */
function uuencodedInBody(): CorpusEmail {
  const png = pngLike('pasted-png', 1453);
  const zip = pseudoRandomBytes(2000, 'pasted-zip');
  const subject = 'Files pasted into the text';
  const before = 'Hello,\n\nhere are the files.\n\n';
  const between = '\nAnd the archive:\n\n';
  const after = '\nRegards\n';
  const textSource = `${before}${uuencode(png, 'redball.png').replace(/\r\n/g, '\n')}\n${between}${uuencode(zip, 'backup.zip').replace(/\r\n/g, '\n')}\n${after}`;
  const raw = email(headers(subject, 'uu-in-body', ['Content-Type: text/plain; charset=us-ascii', 'Content-Transfer-Encoding: 7bit']), crlf(textSource));
  return {
    name: 'transfer-uuencode-in-body',
    subject,
    raw,
    expected: { parts: [textBody(`${before}${between}${after}`), attachment('redball.png', png, 'image/png'), attachment('backup.zip', zip, 'application/zip')], email: {} },
  };
}

/** A `begin` line that starts a sentence, not a file: the text stays whole. */
function beginThatIsText(): CorpusEmail {
  const subject = 'Text that starts with begin';
  const text = 'begin 644 is what the old tools wrote, said the manual,\nbut this email has no file in it.\nend\n';
  const raw = email(headers(subject, 'begin-text', ['Content-Type: text/plain; charset=us-ascii']), crlf(text));
  return { name: 'transfer-begin-line-that-is-text', subject, raw, expected: { parts: [textBody(text)], email: {} } };
}

/** BinHex, named by the MIME headers and not: delivered as it came, the nameless one named from the BinHex header. */
function binhexAttachments(): CorpusEmail {
  const named = binhex('Budget 1997', Buffer.from('Budget figures\r', 'latin1'), Buffer.alloc(0));
  const nameless = binhex('ReadMe', Buffer.from('Read me first.\r', 'latin1'), pseudoRandomBytes(40, 'rsrc'));
  const subject = 'BinHex attachments';
  const text = 'Two files from a Mac.\n';
  const raw = mixed(subject, 'binhex', [
    textPart(text),
    ['Content-Type: application/mac-binhex40; name="Budget 1997.hqx"', 'Content-Disposition: attachment; filename="Budget 1997.hqx"', '', named].join(CRLF),
    ['Content-Type: application/mac-binhex40', '', nameless].join(CRLF),
  ]);
  return {
    name: 'transfer-binhex',
    subject,
    raw,
    expected: {
      parts: [
        textBody(text),
        attachment('Budget 1997.hqx', Buffer.from(named, 'latin1'), 'application/mac-binhex40'),
        attachment('ReadMe.hqx', Buffer.from(nameless, 'latin1'), 'application/mac-binhex40'),
      ],
      email: {},
    },
  };
}

/** A transfer encoding nobody decodes (x-gzip64): delivered as it came, the envelope says which. */
function unknownEncoding(): CorpusEmail {
  const encoded = `${base64Lines(pseudoRandomBytes(300, 'gzip64'))}`;
  const subject = 'Unknown transfer encoding';
  const text = 'An attachment in an encoding Postroom does not know.\n';
  const raw = mixed(subject, 'x-gzip64', [
    textPart(text),
    ['Content-Type: application/octet-stream; name="data.bin"', 'Content-Transfer-Encoding: x-gzip64', '', encoded].join(CRLF),
  ]);
  return {
    name: 'transfer-unknown-encoding',
    subject,
    raw,
    expected: { parts: [textBody(text), { ...attachment('data.bin', Buffer.from(encoded, 'latin1'), 'application/octet-stream'), undecodedEncoding: 'x-gzip64' }], email: {} },
  };
}

/** 8bit text and a `7-bit` misspelling: bytes as they are. */
function identityEncodings(): CorpusEmail {
  const subject = '8bit and misspelt 7-bit';
  const text = 'Grüße in 8bit UTF-8.\n';
  const notes = Buffer.from('plain notes\r\n', 'utf8');
  const raw = mixed(subject, 'identity', [
    ['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit', '', crlf(text)].join(CRLF),
    ['Content-Type: text/plain; charset=us-ascii; name="notes.txt"', 'Content-Disposition: attachment; filename="notes.txt"', 'Content-Transfer-Encoding: 7-bit', '', 'plain notes', ''].join(CRLF),
  ]);
  return { name: 'transfer-8bit-and-7-bit', subject, raw, expected: { parts: [textBody(text), attachment('notes.txt', notes, 'text/plain; charset=us-ascii')], email: {} } };
}

// ---------------------------------------------------------------------------------------------
// Dispositions that lie

/** The HTML body of an alternative with a garbage Content-Disposition, twice: still the body. */
function unreadableDispositionOnBody(): CorpusEmail {
  const subject = 'Unreadable disposition on the body';
  const html = '<p>The real body.</p>\n';
  const boundary = '=_bad_disposition';
  const raw = email(
    headers(subject, 'bad-disposition', [`Content-Type: multipart/alternative; boundary="${boundary}"`]),
    multipart(boundary, [
      ['Content-Type: text/html; charset=utf-8', 'Content-Disposition: =?utf-8?Q?invalid?=', 'Content-Disposition: =?utf-8?Q?invalid?=', '', crlf(html)].join(CRLF),
    ]),
  );
  return { name: 'disposition-unreadable-on-body', subject, raw, expected: { parts: [htmlBody(html)], email: {} } };
}

/** In a mixed email: text body with a disposition nobody knows, a named part without any disposition. */
function namedPartWithoutDisposition(): CorpusEmail {
  const subject = 'Named parts without a disposition';
  const text = 'The body, with an odd disposition.\n';
  const readme = Buffer.from('Read me\r\n', 'utf8');
  const sheet = pseudoRandomBytes(500, 'sheet');
  const raw = mixed(subject, 'no-disposition', [
    ['Content-Type: text/plain; charset=utf-8', 'Content-Disposition: body', '', crlf(text)].join(CRLF),
    base64Part(['Content-Type: text/plain; charset=utf-8; name="readme.txt"'], readme),
    base64Part(['Content-Type: application/vnd.ms-excel; name="sheet.xls"'], sheet),
  ]);
  return {
    name: 'disposition-missing-but-named',
    subject,
    raw,
    expected: { parts: [textBody(text), attachment('readme.txt', readme, 'text/plain; charset=utf-8'), attachment('sheet.xls', sheet, 'application/vnd.ms-excel')], email: {} },
  };
}

/** Nested alternatives inside related inside mixed; the HTML body has a name and an unreadable disposition. */
function nestedLayoutsThatLie(): CorpusEmail {
  const subject = 'Nested layouts that lie';
  const text = 'Plain rendering.\n';
  const html = '<p>HTML rendering <img src="cid:chart@postroom.test"></p>\n';
  const chart = pngLike('chart', 800);
  const report = Buffer.from('Quarter,Sales\r\nQ1,10\r\n', 'utf8');
  const [m, r, a, inner] = ['=_lie_mixed', '=_lie_related', '=_lie_alt', '=_lie_inner_alt'];
  const raw = email(
    headers(subject, 'lying-layouts', [`Content-Type: multipart/mixed; boundary="${m}"`]),
    multipart(m, [
      [
        `Content-Type: multipart/related; boundary="${r}"`,
        '',
        multipart(r, [
          [
            `Content-Type: multipart/alternative; boundary="${a}"`,
            '',
            multipart(a, [
              ['Content-Type: text/plain; charset=utf-8', 'Content-Disposition: =?utf-8?Q?invalid?=', '', crlf(text)].join(CRLF),
              [
                `Content-Type: multipart/alternative; boundary="${inner}"`,
                '',
                multipart(inner, [['Content-Type: text/html; charset=utf-8; name="message.html"', 'Content-Disposition: x-body', '', crlf(html)].join(CRLF)]),
              ].join(CRLF),
            ]),
          ].join(CRLF),
          base64Part(['Content-Type: image/png; name="chart.png"', 'Content-ID: <chart@postroom.test>'], chart),
        ]),
      ].join(CRLF),
      base64Part(['Content-Type: text/csv; name="report.csv"'], report),
    ]),
  );
  return {
    name: 'disposition-nested-layouts',
    subject,
    raw,
    expected: { parts: [textBody(text), attachment('chart.png', chart, 'image/png', { inline: true }), attachment('report.csv', report, 'text/csv')], email: {} },
  };
}

// ---------------------------------------------------------------------------------------------
// The corpus

export function buildRealWorldCorpus(): CorpusEmail[] {
  return [
    ...['x-uuencode', 'uuencode', 'x-uue', 'uue'].map(uuencodedAttachment),
    uuencodedNameOnBeginLine(),
    uuencodedInBody(),
    beginThatIsText(),
    binhexAttachments(),
    unknownEncoding(),
    identityEncodings(),
    unreadableDispositionOnBody(),
    namedPartWithoutDisposition(),
    nestedLayoutsThatLie(),
  ];
}

/** For the fuzz test: deterministic, so a failing seed can be replayed. */
export function corpusDigest(corpus: CorpusEmail[]): string {
  return createHash('sha256').update(corpus.map((entry) => entry.raw.toString('latin1')).join('\u0000')).digest('hex');
}

export type { ExpectedPart };
export { sha256 };
