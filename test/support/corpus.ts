/**
 * A corpus of emails with known parts, for the MIME, IMAP, POP3 and delivery tests and the
 * benchmark. Every raw email is written out by hand (string templates, CRLF line endings,
 * base64 wrapped at 76 characters) so the MIME is exactly what each case intends, and every
 * expected sha256 is computed from the source bytes that went in, never from our parser.
 *
 * Bodies are compared as text: the expected body is the UTF-8 encoding of the source text with
 * LF line endings (splitEmail re-encodes the body to UTF-8 and normalises CRLF to LF).
 * Attachments are compared byte for byte.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  attachment,
  BASE64_LINE_BYTES,
  base64Lines,
  base64Part,
  type CorpusEmail,
  CRLF,
  crlf,
  DATE,
  email,
  headers,
  htmlBody,
  keystream,
  makeEmail,
  multipart,
  pseudoRandomBytes,
  qpTextPart,
  quotedPrintable,
  splitPart,
  textBody,
} from './mime-writer.ts';

export {
  type AttachmentSpec,
  base64Lines,
  type CorpusEmail,
  type EmailSpec,
  type ExpectedPart,
  HTML_BODY_TYPE,
  makeEmail,
  pseudoRandomBytes,
  quotedPrintable,
  sha256,
  TEXT_BODY_TYPE,
} from './mime-writer.ts';

// ---------------------------------------------------------------------------------------------
// Sample contents

const PNG_SIGNATURE = Buffer.from('89504e470d0a1a0a', 'hex');

function pngLike(seed: string, size: number): Buffer {
  return Buffer.concat([PNG_SIGNATURE, pseudoRandomBytes(size, seed)]);
}

function pdfLike(seed: string): Buffer {
  return Buffer.concat([
    Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\nstream\n', 'latin1'),
    pseudoRandomBytes(2048, seed),
    Buffer.from('\nendstream\n%%EOF\n', 'latin1'),
  ]);
}

const CSV = Buffer.from(
  'id,name,amount,note\r\n' +
    '1,Café Ünïcode,12.50,"a=b; equals signs must be escaped"\r\n' +
    `2,Long line,99.00,"${'x'.repeat(120)}"\r\n` +
    '3,Trailing space ,0.00, \r\n',
  'utf8',
);

/** Shift_JIS bytes of SHIFT_JIS_TEXT, written out because Node has no Shift_JIS encoder. */
const SHIFT_JIS_TEXT = 'こんにちは、世界。日本語のメールです。\n請求書を添付します。\n';
const SHIFT_JIS_BYTES = Buffer.from(
  '82b182f182c982bf82cd814190a28a45814293fa967b8cea82cc8381815b838b82c582b781420a90bf8b818f9182f09359957482b582dc82b781420a',
  'hex',
);

/** Windows-1252 bytes for the characters it adds over ISO-8859-1 (“ ” – € …). */
const WINDOWS_1252: Readonly<Record<string, number>> = Object.freeze({ '€': 0x80, '…': 0x85, '“': 0x93, '”': 0x94, '–': 0x96 });

function windows1252(text: string): Buffer {
  return Buffer.from(Array.from(text, (char) => WINDOWS_1252[char] ?? char.charCodeAt(0)));
}

// ---------------------------------------------------------------------------------------------
// The corpus

export function buildCorpus(): CorpusEmail[] {
  return [
    plainText(),
    htmlOnly(),
    alternative(),
    multipleAttachments(),
    rfc2231Filenames(),
    encodedWordFilenames(),
    isoLatin1Body(),
    windows1252Body(),
    shiftJisBody(),
    nestedEmail(),
    inlineImage(),
    calendarInvite(),
    calendarCancel(),
    noBody(),
    onlyAttachments(),
    missingFilenames(),
    inlineTextFile(),
    missingClosingBoundary(),
  ];
}

function plainText(): CorpusEmail {
  const text = 'Hello from Postroom.\nThis is a plain text email — with UTF-8: café, naïve, 日本.\n';
  return {
    name: 'plain-text',
    subject: 'Plain text',
    raw: email(headers('Plain text', 'plain-text', [splitPart(qpTextPart('text/plain', text)).head]), splitPart(qpTextPart('text/plain', text)).body),
    expected: { parts: [textBody(text)] },
  };
}

function htmlOnly(): CorpusEmail {
  const html = '<html><body><p>Only <b>HTML</b> here — ünïcödé.</p></body></html>\n';
  const part = splitPart(qpTextPart('text/html', html));
  return {
    name: 'html-only',
    subject: 'HTML only',
    raw: email(headers('HTML only', 'html-only', [part.head]), part.body),
    expected: { parts: [htmlBody(html)] },
  };
}

function alternative(): CorpusEmail {
  return {
    ...makeEmail({
      subject: 'Alternative',
      text: 'The plain rendering.\n',
      html: '<p>The <i>HTML</i> rendering.</p>\n',
    }),
    name: 'multipart-alternative',
  };
}

function multipleAttachments(): CorpusEmail {
  const random = pseudoRandomBytes(3000, 'random.bin');
  const pdf = pdfLike('invoice.pdf');
  const text = 'Three attachments: random bytes, a CSV and a PDF.\n';
  const boundary = '=_multi_boundary';
  const raw = email(
    headers('Multiple attachments', 'multiple-attachments', [`Content-Type: multipart/mixed; boundary="${boundary}"`]),
    multipart(boundary, [
      qpTextPart('text/plain', text),
      base64Part(['Content-Type: application/octet-stream', 'Content-Disposition: attachment; filename="random.bin"'], random),
      [
        'Content-Type: text/csv; charset=utf-8',
        'Content-Disposition: attachment; filename="report.csv"',
        'Content-Transfer-Encoding: quoted-printable',
        '',
        quotedPrintable(CSV),
      ].join(CRLF),
      base64Part(['Content-Type: application/pdf; name="invoice.pdf"', 'Content-Disposition: attachment; filename="invoice.pdf"'], pdf),
    ]),
  );
  return {
    name: 'multiple-attachments',
    subject: 'Multiple attachments',
    raw,
    expected: {
      parts: [
        textBody(text),
        attachment('random.bin', random, 'application/octet-stream'),
        attachment('report.csv', CSV, 'text/csv; charset=utf-8'),
        attachment('invoice.pdf', pdf, 'application/pdf'),
      ],
    },
  };
}

function rfc2231Filenames(): CorpusEmail {
  const text = 'File names in RFC 2231 form.\n';
  const boundary = '=_rfc2231';
  const [a, b, c] = [pseudoRandomBytes(100, 'a'), pseudoRandomBytes(200, 'b'), pseudoRandomBytes(300, 'c')];
  const raw = email(
    headers('RFC 2231 file names', 'rfc2231', [`Content-Type: multipart/mixed; boundary="${boundary}"`]),
    multipart(boundary, [
      qpTextPart('text/plain', text),
      // ISO-8859-1 charset, split over two continuations, the second one not percent-encoded.
      base64Part(['Content-Type: application/octet-stream', 'Content-Disposition: attachment; filename*0*=iso-8859-1\'\'r%E9sum%E9; filename*1=".txt"'], a),
      base64Part(['Content-Type: application/pdf', "Content-Disposition: attachment; filename*=utf-8''%E2%82%AC%20rate%20%E6%97%A5%E6%9C%AC.pdf"], b),
      // UTF-8 over three folded continuations.
      base64Part(
        [
          'Content-Type: text/csv',
          'Content-Disposition: attachment;',
          " filename*0*=utf-8''%E6%97%A5%E6%9C%AC;",
          ' filename*1*=%E8%AA%9E%20;',
          ' filename*2="data.csv"',
        ],
        c,
      ),
    ]),
  );
  return {
    name: 'rfc2231-filenames',
    subject: 'RFC 2231 file names',
    raw,
    expected: {
      parts: [
        textBody(text),
        attachment('résumé.txt', a, 'application/octet-stream'),
        attachment('€ rate 日本.pdf', b, 'application/pdf'),
        attachment('日本語 data.csv', c, 'text/csv'),
      ],
    },
  };
}

function encodedWordFilenames(): CorpusEmail {
  const text = 'File names as RFC 2047 encoded words.\n';
  const boundary = '=_rfc2047';
  const contents = ['quoted', 'unquoted', 'split', 'latin1'].map((seed) => pseudoRandomBytes(64, seed));
  const [quoted, unquoted, split, latin1] = contents as [Buffer, Buffer, Buffer, Buffer];
  const raw = email(
    headers('Encoded-word file names', 'rfc2047', [`Content-Type: multipart/mixed; boundary="${boundary}"`]),
    multipart(boundary, [
      qpTextPart('text/plain', text),
      base64Part(['Content-Type: application/octet-stream; name="=?UTF-8?B?w6TDtsO8LnR4dA==?="'], quoted),
      base64Part(['Content-Type: application/pdf', 'Content-Disposition: attachment; filename==?UTF-8?Q?r=C3=A9sum=C3=A9.pdf?='], unquoted),
      base64Part(
        ['Content-Type: application/octet-stream', 'Content-Disposition: attachment;', ' filename="=?UTF-8?Q?caf=C3=A9?= =?UTF-8?Q?_menu.txt?="'],
        split,
      ),
      base64Part(['Content-Type: application/octet-stream', 'Content-Disposition: attachment; filename="=?ISO-8859-1?Q?=C5ngstr=F6m.dat?="'], latin1),
    ]),
  );
  return {
    name: 'encoded-word-filenames',
    subject: 'Encoded-word file names',
    raw,
    expected: {
      parts: [
        textBody(text),
        attachment('äöü.txt', quoted, 'application/octet-stream'),
        attachment('résumé.pdf', unquoted, 'application/pdf'),
        attachment('café menu.txt', split, 'application/octet-stream'),
        attachment('Ångström.dat', latin1, 'application/octet-stream'),
      ],
    },
  };
}

function charsetBody(name: string, subject: string, charset: string, text: string, bytes: Buffer, encoding: 'qp' | 'base64'): CorpusEmail {
  const body = encoding === 'qp' ? quotedPrintable(bytes) : base64Lines(bytes);
  const transfer = encoding === 'qp' ? 'quoted-printable' : 'base64';
  return {
    name,
    subject,
    raw: email(headers(subject, name, [`Content-Type: text/plain; charset=${charset}`, `Content-Transfer-Encoding: ${transfer}`]), body),
    expected: { parts: [textBody(text)] },
  };
}

function isoLatin1Body(): CorpusEmail {
  const text = 'Grüße aus Köln! Ça va? ½ price at 20 °C.\n';
  return charsetBody('charset-iso-8859-1', 'ISO-8859-1 body', 'ISO-8859-1', text, Buffer.from(crlf(text), 'latin1'), 'qp');
}

function windows1252Body(): CorpusEmail {
  const text = '“Smart quotes” – an en dash, the € sign, an ellipsis… and café.\n';
  return charsetBody('charset-windows-1252', 'Windows-1252 body', 'windows-1252', text, windows1252(crlf(text)), 'qp');
}

function shiftJisBody(): CorpusEmail {
  const bytes = Buffer.from(SHIFT_JIS_BYTES.toString('latin1').replace(/\n/g, CRLF), 'latin1');
  return charsetBody('charset-shift-jis', 'Shift_JIS body', 'Shift_JIS', SHIFT_JIS_TEXT, bytes, 'base64');
}

function nestedEmail(): CorpusEmail {
  const innerBoundary = '=_inner';
  const inner = Buffer.from(
    [
      'From: colleague@postroom.test',
      'To: sender@postroom.test',
      'Subject: =?UTF-8?Q?Quarterly_report_=E2=80=94_Q2?=',
      `Date: ${DATE}`,
      'MIME-Version: 1.0',
      `Content-Type: multipart/mixed; boundary="${innerBoundary}"`,
      '',
      multipart(innerBoundary, [
        qpTextPart('text/plain', 'The inner body.\n'),
        base64Part(['Content-Type: application/pdf', 'Content-Disposition: attachment; filename="inner.pdf"'], pdfLike('inner.pdf')),
      ]),
    ].join(CRLF),
    'utf8',
  );
  const bare = Buffer.from(['From: someone@postroom.test', 'Content-Type: text/plain', '', 'An email without a subject.', ''].join(CRLF), 'utf8');
  const after = Buffer.from('Attached after the forwarded emails.\r\n', 'utf8');
  const text = 'Two forwarded emails and a file.\n';
  const boundary = '=_outer';
  const raw = email(
    headers('Forwarded emails', 'nested', [`Content-Type: multipart/mixed; boundary="${boundary}"`]),
    multipart(boundary, [
      qpTextPart('text/plain', text),
      ['Content-Type: message/rfc822', 'Content-Disposition: attachment', '', inner.toString('utf8')].join(CRLF),
      ['Content-Type: message/rfc822', '', bare.toString('utf8')].join(CRLF),
      base64Part(['Content-Type: text/plain; charset=utf-8', 'Content-Disposition: attachment; filename="after.txt"'], after),
    ]),
  );
  return {
    name: 'nested-rfc822',
    subject: 'Forwarded emails',
    raw,
    expected: {
      parts: [
        textBody(text),
        attachment('Quarterly report — Q2.eml', inner, 'message/rfc822'),
        attachment('attached-2.eml', bare, 'message/rfc822'),
        attachment('after.txt', after, 'text/plain; charset=utf-8'),
      ],
    },
  };
}

function inlineImage(): CorpusEmail {
  const logo = pngLike('logo', 600);
  const photo = pngLike('photo', 900);
  const text = 'Our logo is shown in the HTML version.\n';
  const html = '<html><body><p>Our logo:</p><img src="cid:logo@postroom.test" alt="logo"></body></html>\n';
  const [mixed, alt, related] = ['=_mixed_inline', '=_alt_inline', '=_related_inline'];
  const raw = email(
    headers('Inline image', 'inline-image', [`Content-Type: multipart/mixed; boundary="${mixed}"`]),
    multipart(mixed, [
      [
        `Content-Type: multipart/alternative; boundary="${alt}"`,
        '',
        multipart(alt, [
          qpTextPart('text/plain', text),
          [
            `Content-Type: multipart/related; boundary="${related}"; type="text/html"`,
            '',
            multipart(related, [
              qpTextPart('text/html', html),
              base64Part(
                ['Content-Type: image/png; name="logo.png"', 'Content-Disposition: inline; filename="logo.png"', 'Content-ID: <logo@postroom.test>'],
                logo,
              ),
            ]),
          ].join(CRLF),
        ]),
      ].join(CRLF),
      // Has a Content-ID too, but the HTML does not show it: an ordinary attachment.
      base64Part(['Content-Type: image/png', 'Content-Disposition: attachment; filename="photo.png"', 'Content-ID: <photo@postroom.test>'], photo),
    ]),
  );
  return {
    name: 'inline-image',
    subject: 'Inline image',
    raw,
    expected: {
      parts: [textBody(text), attachment('logo.png', logo, 'image/png', { inline: true }), attachment('photo.png', photo, 'image/png', { inline: false })],
    },
  };
}

const INVITE = [
  'BEGIN:VCALENDAR',
  'PRODID:-//Postroom//Test//EN',
  'VERSION:2.0',
  'METHOD:REQUEST',
  'BEGIN:VEVENT',
  'UID:review-2025@postroom.test',
  'DTSTART:20250710T090000Z',
  'DTEND:20250710T100000Z',
  'SUMMARY:Quarterly review',
  'ORGANIZER:mailto:sender@postroom.test',
  'ATTENDEE:mailto:receiver@postroom.test',
  'END:VEVENT',
  'END:VCALENDAR',
  '',
].join(CRLF);

function calendarInvite(): CorpusEmail {
  const invite = Buffer.from(INVITE, 'utf8');
  const text = 'You are invited to the quarterly review.\n';
  const [mixed, alt] = ['=_mixed_cal', '=_alt_cal'];
  const raw = email(
    headers('Invitation: Quarterly review', 'calendar-invite', [`Content-Type: multipart/mixed; boundary="${mixed}"`]),
    multipart(mixed, [
      [
        `Content-Type: multipart/alternative; boundary="${alt}"`,
        '',
        multipart(alt, [qpTextPart('text/plain', text), base64Part(['Content-Type: text/calendar; charset=UTF-8; method=REQUEST'], invite)]),
      ].join(CRLF),
    ]),
  );
  return {
    name: 'calendar-invite',
    subject: 'Invitation: Quarterly review',
    raw,
    expected: {
      parts: [textBody(text), attachment('invite.ics', invite, 'text/calendar; charset=UTF-8; method=REQUEST', { method: 'REQUEST' })],
    },
  };
}

function calendarCancel(): CorpusEmail {
  // No method= parameter: the method comes from the iCalendar METHOD line.
  const cancel = Buffer.from(INVITE.replace('METHOD:REQUEST', 'METHOD:CANCEL'), 'utf8');
  const text = 'The quarterly review is cancelled.\n';
  const boundary = '=_cancel';
  const raw = email(
    headers('Cancelled: Quarterly review', 'calendar-cancel', [`Content-Type: multipart/mixed; boundary="${boundary}"`]),
    multipart(boundary, [
      qpTextPart('text/plain', text),
      base64Part(['Content-Type: application/ics; name="cancel.ics"', 'Content-Disposition: attachment; filename="cancel.ics"'], cancel),
    ]),
  );
  return {
    name: 'calendar-cancel',
    subject: 'Cancelled: Quarterly review',
    raw,
    expected: { parts: [textBody(text), attachment('cancel.ics', cancel, 'application/ics', { method: 'CANCEL' })] },
  };
}

function noBody(): CorpusEmail {
  return {
    name: 'no-body',
    subject: 'Headers only',
    raw: Buffer.from(`${headers('Headers only', 'no-body', [])}${CRLF}${CRLF}`, 'utf8'),
    expected: { parts: [] },
  };
}

function onlyAttachments(): CorpusEmail {
  return {
    ...makeEmail({
      subject: 'Only attachments',
      attachments: [
        { filename: 'scan-001.png', content: pngLike('scan-001', 1500), contentType: 'image/png' },
        { filename: 'Überweisung.pdf', content: pdfLike('ueberweisung'), contentType: 'application/pdf' },
      ],
    }),
    name: 'only-attachments',
  };
}

function missingFilenames(): CorpusEmail {
  const pdf = pdfLike('nameless.pdf');
  const csv = Buffer.from('a,b\r\n1,2\r\n', 'utf8');
  const text = 'Two attachments without names.\n';
  const boundary = '=_nameless';
  const raw = email(
    headers('Nameless attachments', 'nameless', [`Content-Type: multipart/mixed; boundary="${boundary}"`]),
    multipart(boundary, [
      qpTextPart('text/plain', text),
      base64Part(['Content-Type: application/pdf', 'Content-Disposition: attachment'], pdf),
      base64Part(['Content-Type: text/csv', 'Content-Disposition: attachment'], csv),
    ]),
  );
  return {
    name: 'missing-filenames',
    subject: 'Nameless attachments',
    raw,
    expected: {
      parts: [textBody(text), attachment('attachment-1.pdf', pdf, 'application/pdf'), attachment('attachment-2.csv', csv, 'text/csv')],
    },
  };
}

function inlineTextFile(): CorpusEmail {
  // Apple Mail attaches text files inline with a file name: an attachment, not more body text.
  const notes = Buffer.from('Meeting notes\r\n- item one\r\n- item two\r\n', 'utf8');
  const text = 'Notes attached.\n';
  const boundary = '=_inline_text';
  const raw = email(
    headers('Inline text file', 'inline-text', [`Content-Type: multipart/mixed; boundary="${boundary}"`]),
    multipart(boundary, [
      qpTextPart('text/plain', text),
      base64Part(['Content-Type: text/plain; charset=utf-8; name="notes.txt"', 'Content-Disposition: inline; filename="notes.txt"'], notes),
    ]),
  );
  return {
    name: 'inline-text-file',
    subject: 'Inline text file',
    raw,
    expected: { parts: [textBody(text), attachment('notes.txt', notes, 'text/plain; charset=utf-8')] },
  };
}

/**
 * The closing boundary is missing (the email was cut or badly generated). What we guarantee:
 * every part that is complete is still delivered, split as usual, nothing is dropped.
 */
function missingClosingBoundary(): CorpusEmail {
  const data = pseudoRandomBytes(1000, 'unclosed');
  const text = 'The closing boundary of this email is missing.\n';
  const boundary = '=_unclosed';
  const raw = email(
    headers('Missing closing boundary', 'unclosed', [`Content-Type: multipart/mixed; boundary="${boundary}"`]),
    multipart(boundary, [qpTextPart('text/plain', text), base64Part(['Content-Type: application/octet-stream; name="data.bin"'], data)], false),
  );
  return {
    name: 'malformed-missing-closing-boundary',
    subject: 'Missing closing boundary',
    raw,
    expected: { parts: [textBody(text), attachment('data.bin', data, 'application/octet-stream')] },
  };
}

// ---------------------------------------------------------------------------------------------
// A large email, generated as a stream

export const LARGE_ATTACHMENT_NAME = 'large.bin';
const LARGE_SEED = 'large-attachment';
/** 1,024 base64 lines per chunk: big enough to be fast, small enough to stay a small buffer. */
const LARGE_CHUNK_BYTES = BASE64_LINE_BYTES * 1024;

/** The attachment's bytes, chunk by chunk, as largeAttachmentEmail encodes them. */
export function* largeAttachmentContent(sizeBytes: number): Generator<Buffer> {
  const stream = keystream(LARGE_SEED);
  // The keystream is the content; encrypting one reused buffer of zeros yields it.
  const zeros = Buffer.alloc(LARGE_CHUNK_BYTES);
  for (let sent = 0; sent < sizeBytes; sent += LARGE_CHUNK_BYTES) {
    yield stream.update(zeros.subarray(0, Math.min(LARGE_CHUNK_BYTES, sizeBytes - sent)));
  }
}

export function largeAttachmentSha256(sizeBytes: number): string {
  const hash = createHash('sha256');
  for (const chunk of largeAttachmentContent(sizeBytes)) hash.update(chunk);
  return hash.digest('hex');
}

/** An email with one `sizeBytes` attachment (large.bin), generated on the fly: never in memory whole. */
export function largeAttachmentEmail(sizeBytes: number): Readable {
  return Readable.from(largeEmailChunks(sizeBytes), { objectMode: false });
}

function* largeEmailChunks(sizeBytes: number): Generator<Buffer> {
  const boundary = '=_large';
  yield Buffer.from(
    `${headers('Large attachment', `large-${sizeBytes}`, [`Content-Type: multipart/mixed; boundary="${boundary}"`])}${CRLF}${CRLF}` +
      `--${boundary}${CRLF}${qpTextPart('text/plain', 'A large attachment.\n')}${CRLF}` +
      `--${boundary}${CRLF}Content-Type: application/octet-stream${CRLF}` +
      `Content-Disposition: attachment; filename="${LARGE_ATTACHMENT_NAME}"${CRLF}Content-Transfer-Encoding: base64${CRLF}${CRLF}`,
    'utf8',
  );
  for (const chunk of largeAttachmentContent(sizeBytes)) yield Buffer.from(`${base64Lines(chunk)}${CRLF}`, 'latin1');
  yield Buffer.from(`--${boundary}--${CRLF}`, 'utf8');
}
