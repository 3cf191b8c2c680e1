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
import {
  attachment,
  base64Lines,
  base64Part,
  type CorpusEmail,
  CRLF,
  crlf,
  type ExpectedPart,
  email,
  headers,
  htmlBody,
  multipart,
  pseudoRandomBytes,
  qpTextPart,
  sha256,
  textBody,
} from './mime-writer.ts';
import { compressRtf, filetime, PT_BINARY, PT_STRING8, PT_SYSTIME, string8, tnef } from './tnef-writer.ts';

export type { CorpusEmail } from './mime-writer.ts';

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
    [
      'Content-Type: image/png; name="redball.png"',
      `Content-Transfer-Encoding: ${encoding}`,
      'Content-Disposition: attachment; filename="redball.png"',
      '',
      uuencode(png, 'redball.png'),
    ].join(CRLF),
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
  return {
    name: 'transfer-uuencode-name-on-begin-line',
    subject,
    raw,
    expected: { parts: [textBody(text), attachment('ledger.dat', data, 'application/octet-stream')], email: {} },
  };
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
    expected: {
      parts: [textBody(`${before}${between}${after}`), attachment('redball.png', png, 'image/png'), attachment('backup.zip', zip, 'application/zip')],
      email: {},
    },
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
    expected: {
      parts: [textBody(text), { ...attachment('data.bin', Buffer.from(encoded, 'latin1'), 'application/octet-stream'), undecodedEncoding: 'x-gzip64' }],
      email: {},
    },
  };
}

/** 8bit text and a `7-bit` misspelling: bytes as they are. */
function identityEncodings(): CorpusEmail {
  const subject = '8bit and misspelt 7-bit';
  const text = 'Grüße in 8bit UTF-8.\n';
  const notes = Buffer.from('plain notes\r\n', 'utf8');
  const raw = mixed(subject, 'identity', [
    ['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit', '', crlf(text)].join(CRLF),
    [
      'Content-Type: text/plain; charset=us-ascii; name="notes.txt"',
      'Content-Disposition: attachment; filename="notes.txt"',
      'Content-Transfer-Encoding: 7-bit',
      '',
      'plain notes',
      '',
    ].join(CRLF),
  ]);
  return {
    name: 'transfer-8bit-and-7-bit',
    subject,
    raw,
    expected: { parts: [textBody(text), attachment('notes.txt', notes, 'text/plain; charset=us-ascii')], email: {} },
  };
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
      ['Content-Type: text/html; charset=utf-8', 'Content-Disposition: =?utf-8?Q?invalid?=', 'Content-Disposition: =?utf-8?Q?invalid?=', '', crlf(html)].join(
        CRLF,
      ),
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
    expected: {
      parts: [textBody(text), attachment('readme.txt', readme, 'text/plain; charset=utf-8'), attachment('sheet.xls', sheet, 'application/vnd.ms-excel')],
      email: {},
    },
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
    expected: {
      parts: [textBody(text), attachment('chart.png', chart, 'image/png', { inline: true }), attachment('report.csv', report, 'text/csv')],
      email: {},
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Reports (RFC 6522), auto-replies (RFC 3834) and lists (RFC 2919)

/** The email a report is about, as a bounce returns it. */
function returnedEmail(messageId: string): string {
  return [
    'From: sender@postroom.test',
    'To: nobody@example.net',
    'Subject: Order 1234',
    `Message-ID: ${messageId}`,
    'Date: Mon, 30 Jun 2025 09:00:00 +0000',
    '',
    'The order.',
    '',
  ].join(CRLF);
}

function report(
  subject: string,
  id: string,
  reportType: string,
  human: string,
  machine: string[],
  original: string[] | undefined,
  extraHeaders: string[] = [],
): Buffer {
  const boundary = `=_report_${id}`;
  return email(
    headers(subject, id, [...extraHeaders, `Content-Type: multipart/report; report-type=${reportType}; boundary="${boundary}"`]),
    multipart(boundary, [textPart(human), machine.join(CRLF), ...(original ? [original.join(CRLF)] : [])]),
  );
}

/** A bounce (RFC 3464): one recipient failed, the returned email attached. */
function deliveryFailure(): CorpusEmail {
  const subject = 'Undelivered Mail Returned to Sender';
  const human = "This is the mail system at host mx.postroom.test.\n\nI'm sorry to have to inform you that your message could not be delivered.\n";
  const status = [
    'Reporting-MTA: dns; mx.postroom.test',
    'Arrival-Date: Mon, 30 Jun 2025 09:00:01 +0000',
    '',
    'Final-Recipient: rfc822; nobody@example.net',
    'Original-Recipient: rfc822;nobody@example.net',
    'Action: failed',
    'Status: 5.1.1',
    'Remote-MTA: dns; mail.example.net',
    'Diagnostic-Code: smtp; 550 5.1.1 <nobody@example.net>:',
    '    Recipient address rejected: User unknown',
    '',
  ].join(CRLF);
  const original = returnedEmail('<order-1234@shop.postroom.test>');
  const raw = report(
    subject,
    'dsn-failed',
    'delivery-status',
    human,
    ['Content-Type: message/delivery-status', 'Content-Description: Delivery report', '', status],
    ['Content-Type: message/rfc822', 'Content-Description: Undelivered Message', '', original],
    ['Auto-Submitted: auto-replied'],
  );
  return {
    name: 'report-delivery-status-failed',
    subject,
    raw,
    expected: {
      parts: [
        textBody(human),
        attachment('delivery-status.txt', Buffer.from(status, 'utf8'), 'message/delivery-status'),
        attachment('Order 1234.eml', Buffer.from(original, 'utf8'), 'message/rfc822'),
      ],
      email: {
        report: {
          type: 'delivery-status',
          originalMessageId: '<order-1234@shop.postroom.test>',
          recipients: [
            {
              recipient: 'nobody@example.net',
              action: 'failed',
              status: '5.1.1',
              diagnosticCode: 'smtp; 550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown',
            },
          ],
        },
        autoReply: { marker: 'Auto-Submitted: auto-replied' },
      },
    },
  };
}

/** A delay warning for two recipients, with only the headers returned (text/rfc822-headers). */
function deliveryDelayed(): CorpusEmail {
  const subject = 'Delayed Mail (still being retried)';
  const human = 'Your message has not been delivered yet. It will be retried.\n';
  const status = [
    'Reporting-MTA: dns; mx.postroom.test',
    '',
    'Final-Recipient: rfc822; a@example.org',
    'Action: delayed',
    'Status: 4.4.1',
    'Will-Retry-Until: Thu, 3 Jul 2025 09:00:00 +0000',
    '',
    'Final-Recipient: rfc822; b@example.org',
    'Action: delayed',
    'Status: 4.4.7 (delivery time expired)',
    '',
  ].join(CRLF);
  const returned = ['From: sender@postroom.test', 'To: a@example.org, b@example.org', 'Subject: Minutes', 'Message-ID: <minutes-7@postroom.test>', ''].join(
    CRLF,
  );
  const raw = report(
    subject,
    'dsn-delayed',
    'delivery-status',
    human,
    ['Content-Type: message/delivery-status', '', status],
    ['Content-Type: text/rfc822-headers', '', returned],
  );
  return {
    name: 'report-delivery-status-delayed',
    subject,
    raw,
    expected: {
      parts: [
        textBody(human),
        attachment('delivery-status.txt', Buffer.from(status, 'utf8'), 'message/delivery-status'),
        attachment('original-headers.txt', Buffer.from(returned, 'utf8'), 'text/rfc822-headers'),
      ],
      email: {
        report: {
          type: 'delivery-status',
          originalMessageId: '<minutes-7@postroom.test>',
          recipients: [
            { recipient: 'a@example.org', action: 'delayed', status: '4.4.1' },
            { recipient: 'b@example.org', action: 'delayed', status: '4.4.7' },
          ],
        },
      },
    },
  };
}

/** A read receipt (RFC 8098). */
function readReceipt(): CorpusEmail {
  const subject = 'Read: Quarterly review';
  const human = 'The message sent on 1 Jul 2025 was displayed by the recipient.\n';
  const notification = [
    'Reporting-UA: mail.example.org; Example Mail 5.0',
    'Original-Recipient: rfc822;receiver@example.org',
    'Final-Recipient: rfc822;receiver@example.org',
    'Original-Message-ID: <review-2025@postroom.test>',
    'Disposition: manual-action/MDN-sent-manually; displayed',
    '',
  ].join(CRLF);
  const raw = report(subject, 'mdn', 'disposition-notification', human, ['Content-Type: message/disposition-notification', '', notification], undefined);
  return {
    name: 'report-read-receipt',
    subject,
    raw,
    expected: {
      parts: [textBody(human), attachment('disposition-notification.txt', Buffer.from(notification, 'utf8'), 'message/disposition-notification')],
      email: {
        report: {
          type: 'disposition-notification',
          originalMessageId: '<review-2025@postroom.test>',
          disposition: { type: 'displayed', mode: 'manual-action/MDN-sent-manually', recipient: 'receiver@example.org' },
        },
      },
    },
  };
}

/** An abuse report (ARF, RFC 5965) with the reported email attached. */
function abuseReport(): CorpusEmail {
  const subject = 'FW: Earn money';
  const human = 'This is an email abuse report for an email message received from IP 192.0.2.1.\n';
  const feedback = [
    'Feedback-Type: abuse',
    'User-Agent: SomeGenerator/1.0',
    'Version: 1',
    'Original-Mail-From: <somespammer@example.net>',
    'Original-Rcpt-To: <user@postroom.test>',
    'Arrival-Date: Thu, 8 Mar 2005 14:00:00 EDT',
    'Source-IP: 192.0.2.1',
    'Reported-Domain: example.net',
    '',
  ].join(CRLF);
  const spam = [
    'From: <somespammer@example.net>',
    'To: <user@postroom.test>',
    'Subject: Earn money',
    'Message-ID: <8787KJKJ3K4J3K4J3K4J3.mail@example.net>',
    'Date: Thu, 8 Mar 2005 17:40:36 EDT',
    '',
    'Spam spam spam',
    '',
  ].join(CRLF);
  const raw = report(
    subject,
    'arf',
    'feedback-report',
    human,
    ['Content-Type: message/feedback-report', '', feedback],
    ['Content-Type: message/rfc822', 'Content-Disposition: inline', '', spam],
  );
  return {
    name: 'report-abuse-feedback',
    subject,
    raw,
    expected: {
      parts: [
        textBody(human),
        attachment('feedback-report.txt', Buffer.from(feedback, 'utf8'), 'message/feedback-report'),
        attachment('Earn money.eml', Buffer.from(spam, 'utf8'), 'message/rfc822'),
      ],
      email: {
        report: {
          type: 'feedback-report',
          originalMessageId: '<8787KJKJ3K4J3K4J3K4J3.mail@example.net>',
          feedback: { type: 'abuse', sourceIp: '192.0.2.1', originalMailFrom: '<somespammer@example.net>' },
        },
      },
    },
  };
}

function plainWithHeaders(name: string, subject: string, extraHeaders: string[], text: string, expectedEmail: Record<string, unknown>): CorpusEmail {
  const raw = email(headers(subject, name, [...extraHeaders, 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit']), crlf(text));
  return { name, subject, raw, expected: { parts: [textBody(text)], email: expectedEmail } };
}

function autoReplies(): CorpusEmail[] {
  return [
    plainWithHeaders(
      'auto-reply-out-of-office',
      'Automatic reply: Order 1234',
      ['Auto-Submitted: auto-replied', 'X-Auto-Response-Suppress: All', 'In-Reply-To: <order-1234@shop.postroom.test>'],
      'I am out of the office until Monday.\n',
      {
        autoReply: { marker: 'Auto-Submitted: auto-replied' },
      },
    ),
    plainWithHeaders('auto-reply-x-autoreply', 'Vacation', ['X-Autoreply: yes'], 'On vacation.\n', { autoReply: { marker: 'X-Autoreply: yes' } }),
    plainWithHeaders('auto-reply-x-autorespond', 'Thanks for your message', ['X-Autorespond: Thanks for your message'], 'We will get back to you.\n', {
      autoReply: { marker: 'X-Autorespond: Thanks for your message' },
    }),
    plainWithHeaders('auto-reply-precedence', 'Ticket #42 received', ['Precedence: auto_reply'], 'Your ticket was received.\n', {
      autoReply: { marker: 'Precedence: auto_reply' },
    }),
    // A person's email that asks not to be auto-replied to, and says it was not auto-submitted.
    plainWithHeaders(
      'auto-reply-not',
      'Not an auto-reply',
      ['Auto-Submitted: no', 'X-Auto-Response-Suppress: OOF, AutoReply', 'X-MS-Exchange-Inbox-Rules-Loop: user@postroom.test'],
      'Written by a person, forwarded by a rule.\n',
      {},
    ),
    plainWithHeaders(
      'list-newsletter',
      'Newsletter July',
      ['List-Id: "Postroom users" <users.lists.postroom.test>', 'Precedence: bulk', 'List-Unsubscribe: <mailto:leave@lists.postroom.test>'],
      'News.\n',
      {
        autoReply: { marker: 'Precedence: bulk' },
        list: { id: 'users.lists.postroom.test', name: 'Postroom users' },
      },
    ),
    plainWithHeaders('list-discussion', 'Re: [dev] release', ['List-Id: <dev.lists.postroom.test>', 'Precedence: list'], 'Ship it.\n', {
      list: { id: 'dev.lists.postroom.test' },
    }),
  ];
}

// ---------------------------------------------------------------------------------------------
// Signed and encrypted (RFC 8551 S/MIME on RFC 5652 CMS, RFC 3156 PGP/MIME)

/** A DER element with a definite length. */
function der(tag: number, content: Buffer): Buffer {
  const length = content.length;
  if (length < 0x80) return Buffer.concat([Buffer.from([tag, length]), content]);
  const digits: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) digits.unshift(rest % 256);
  return Buffer.concat([Buffer.from([tag, 0x80 | digits.length, ...digits]), content]);
}

/** A BER element with an indefinite length, as Outlook streams S/MIME. */
function indefinite(tag: number, children: Buffer[]): Buffer {
  return Buffer.concat([Buffer.from([tag, 0x80]), ...children, Buffer.from([0, 0])]);
}

const OID = (hex: string): Buffer => der(0x06, Buffer.from(hex, 'hex'));
const OID_SIGNED_DATA = '2a864886f70d010702';
const OID_ENVELOPED_DATA = '2a864886f70d010703';
const OID_DATA = '2a864886f70d010701';
const OID_SHA256 = '608648016503040201';

/**
 * ContentInfo { signedData, [0] SignedData { version 1, digestAlgorithms { sha256 }, encapContentInfo
 * { data, [0] OCTET STRING <content> }, signerInfos { a placeholder SignerInfo } } } (RFC 5652 5.1).
 * `streamed` writes it the BER way: indefinite lengths and the content in 100-byte OCTET STRING chunks.
 */
export function cmsSignedData(content: Buffer, streamed: boolean): Buffer {
  const digests = der(0x31, der(0x30, Buffer.concat([OID(OID_SHA256), Buffer.from([0x05, 0x00])])));
  const signer = der(0x30, Buffer.concat([der(0x02, Buffer.from([1])), der(0x04, pseudoRandomBytes(32, 'signature'))]));
  const signerInfos = der(0x31, signer);
  if (!streamed) {
    const encap = der(0x30, Buffer.concat([OID(OID_DATA), der(0xa0, der(0x04, content))]));
    const signedData = der(0x30, Buffer.concat([der(0x02, Buffer.from([1])), digests, encap, signerInfos]));
    return der(0x30, Buffer.concat([OID(OID_SIGNED_DATA), der(0xa0, signedData)]));
  }
  const chunks: Buffer[] = [];
  for (let at = 0; at < content.length; at += 100) chunks.push(der(0x04, content.subarray(at, at + 100)));
  const encap = indefinite(0x30, [OID(OID_DATA), indefinite(0xa0, [indefinite(0x24, chunks)])]);
  const signedData = indefinite(0x30, [der(0x02, Buffer.from([1])), digests, encap, signerInfos]);
  return indefinite(0x30, [OID(OID_SIGNED_DATA), indefinite(0xa0, [signedData])]);
}

/** ContentInfo { envelopedData, ... }: only the outer type matters, the rest is opaque random bytes. */
function cmsEnvelopedData(): Buffer {
  return der(
    0x30,
    Buffer.concat([
      OID(OID_ENVELOPED_DATA),
      der(0xa0, der(0x30, Buffer.concat([der(0x02, Buffer.from([0])), der(0x04, pseudoRandomBytes(200, 'ciphertext'))]))),
    ]),
  );
}

/** The MIME entity that gets signed: a text and a PDF-like file. */
function signedEntity(id: string, text: string, file: Buffer): string {
  const boundary = `=_signed_${id}`;
  return [
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    '',
    multipart(boundary, [textPart(text), base64Part(['Content-Type: application/pdf', 'Content-Disposition: attachment; filename="contract.pdf"'], file)]),
  ].join(CRLF);
}

/** S/MIME multipart/signed (RFC 8551 3.5.3): the entity, then smime.p7s. */
function smimeMultipartSigned(): CorpusEmail {
  const subject = 'Signed contract (S/MIME)';
  const text = 'The signed contract is attached.\n';
  const pdf = pseudoRandomBytes(900, 'contract-smime');
  const signature = cmsSignedData(Buffer.alloc(0), false);
  const boundary = '=_smime_signed';
  const raw = email(
    headers(subject, 'smime-signed', [`Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary="${boundary}"`]),
    multipart(boundary, [
      signedEntity('smime', text, pdf),
      base64Part(['Content-Type: application/pkcs7-signature; name="smime.p7s"', 'Content-Disposition: attachment; filename="smime.p7s"'], signature),
    ]),
  );
  return {
    name: 'signed-smime-multipart',
    subject,
    raw,
    expected: {
      parts: [textBody(text), attachment('contract.pdf', pdf, 'application/pdf'), attachment('smime.p7s', signature, 'application/pkcs7-signature')],
      email: { signed: { protocol: 'application/pkcs7-signature' } },
    },
  };
}

/** PGP/MIME multipart/signed (RFC 3156 5), the signature without a name. */
function pgpMultipartSigned(): CorpusEmail {
  const subject = 'Signed contract (PGP/MIME)';
  const text = 'The signed contract, PGP.\n';
  const pdf = pseudoRandomBytes(900, 'contract-pgp');
  const signature = Buffer.from(
    ['-----BEGIN PGP SIGNATURE-----', '', base64Lines(pseudoRandomBytes(120, 'pgp-sig')), '=ABCD', '-----END PGP SIGNATURE-----', ''].join(CRLF),
    'latin1',
  );
  const boundary = '=_pgp_signed';
  const raw = email(
    headers(subject, 'pgp-signed', [`Content-Type: multipart/signed; micalg=pgp-sha256; protocol="application/pgp-signature"; boundary="${boundary}"`]),
    multipart(boundary, [
      signedEntity('pgp', text, pdf),
      ['Content-Type: application/pgp-signature', 'Content-Description: OpenPGP digital signature', '', signature.toString('latin1')].join(CRLF),
    ]),
  );
  return {
    name: 'signed-pgp-multipart',
    subject,
    raw,
    expected: {
      parts: [textBody(text), attachment('contract.pdf', pdf, 'application/pdf'), attachment('signature.asc', signature, 'application/pgp-signature')],
      email: { signed: { protocol: 'application/pgp-signature' } },
    },
  };
}

/** Opaque-signed S/MIME (RFC 8551 3.5.2), DER or BER-streamed: the .p7m, then what was signed, split. */
function smimeOpaqueSigned(streamed: boolean): CorpusEmail {
  const subject = `Opaque-signed contract (${streamed ? 'BER' : 'DER'})`;
  const text = `Signed inside the p7m, ${streamed ? 'streamed' : 'DER'}.\n`;
  const pdf = pseudoRandomBytes(900, `contract-opaque-${streamed}`);
  const p7m = cmsSignedData(Buffer.from(signedEntity(`opaque-${streamed}`, text, pdf), 'utf8'), streamed);
  const raw = email(
    headers(subject, `smime-opaque-${streamed}`, [
      'Content-Type: application/pkcs7-mime; smime-type=signed-data; name="smime.p7m"',
      'Content-Disposition: attachment; filename="smime.p7m"',
      'Content-Transfer-Encoding: base64',
    ]),
    base64Lines(p7m),
  );
  return {
    name: `signed-smime-opaque-${streamed ? 'ber' : 'der'}`,
    subject,
    raw,
    expected: {
      parts: [textBody(text), attachment('smime.p7m', p7m, 'application/pkcs7-mime'), attachment('contract.pdf', pdf, 'application/pdf')],
      email: { signed: { protocol: 'application/pkcs7-mime' } },
    },
  };
}

/** S/MIME enveloped-data: delivered whole, encrypted. */
function smimeEncrypted(): CorpusEmail {
  const subject = 'Encrypted (S/MIME)';
  const raw = email(
    headers(subject, 'smime-encrypted', [
      'Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"',
      'Content-Disposition: attachment; filename="smime.p7m"',
      'Content-Transfer-Encoding: base64',
    ]),
    base64Lines(cmsEnvelopedData()),
  );
  return {
    name: 'encrypted-smime',
    subject,
    raw,
    expected: { parts: [{ kind: 'original', filename: 'original.eml', sha256: sha256(raw), contentType: 'message/rfc822' }], email: { encrypted: true } },
  };
}

/** An old client's x-pkcs7-mime without smime-type: told encrypted by its CMS content type. */
function smimeEncryptedWithoutSmimeType(): CorpusEmail {
  const subject = 'Encrypted (x-pkcs7-mime, no smime-type)';
  const text = 'Encrypted reply below.\n';
  const raw = mixed(subject, 'smime-encrypted-old', [
    textPart(text),
    base64Part(['Content-Type: application/x-pkcs7-mime; name="smime.p7m"', 'Content-Disposition: attachment; filename="smime.p7m"'], cmsEnvelopedData()),
  ]);
  return {
    name: 'encrypted-smime-without-smime-type',
    subject,
    raw,
    expected: { parts: [{ kind: 'original', filename: 'original.eml', sha256: sha256(raw), contentType: 'message/rfc822' }], email: { encrypted: true } },
  };
}

/** PGP/MIME multipart/encrypted (RFC 3156 4): delivered whole, encrypted. */
function pgpEncrypted(): CorpusEmail {
  const subject = 'Encrypted (PGP/MIME)';
  const armored = ['-----BEGIN PGP MESSAGE-----', '', base64Lines(pseudoRandomBytes(300, 'pgp-message')), '=WXYZ', '-----END PGP MESSAGE-----', ''].join(CRLF);
  const boundary = '=_pgp_encrypted';
  const raw = email(
    headers(subject, 'pgp-encrypted', [`Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="${boundary}"`]),
    multipart(boundary, [
      ['Content-Type: application/pgp-encrypted', 'Content-Description: PGP/MIME version identification', '', 'Version: 1', ''].join(CRLF),
      ['Content-Type: application/octet-stream; name="encrypted.asc"', 'Content-Disposition: inline; filename="encrypted.asc"', '', armored].join(CRLF),
    ]),
  );
  return {
    name: 'encrypted-pgp-multipart',
    subject,
    raw,
    expected: { parts: [{ kind: 'original', filename: 'original.eml', sha256: sha256(raw), contentType: 'message/rfc822' }], email: { encrypted: true } },
  };
}

// ---------------------------------------------------------------------------------------------
// Apple and Microsoft wrappers

/** An AppleDouble header (RFC 1740 / AppleSingle-AppleDouble v2): Finder info, real name, resource fork. */
function appleDoubleHeader(realName: string, type: string, creator: string, resourceFork: Buffer): Buffer {
  const name = Buffer.from(realName, 'latin1');
  const finder = Buffer.alloc(32);
  finder.write(type, 0, 'latin1');
  finder.write(creator, 4, 'latin1');
  const entries = [
    { id: 3, data: name },
    { id: 9, data: finder },
    { id: 2, data: resourceFork },
  ];
  const header = Buffer.alloc(26 + entries.length * 12);
  header.writeUInt32BE(0x00051607, 0);
  header.writeUInt32BE(0x00020000, 4);
  header.writeUInt16BE(entries.length, 24);
  let offset = header.length;
  entries.forEach((entry, index) => {
    header.writeUInt32BE(entry.id, 26 + index * 12);
    header.writeUInt32BE(offset, 30 + index * 12);
    header.writeUInt32BE(entry.data.length, 34 + index * 12);
    offset += entry.data.length;
  });
  return Buffer.concat([header, ...entries.map((entry) => entry.data)]);
}

function appleDouble(id: string, header: Buffer, dataForkHeaders: string[], dataFork: Buffer): string {
  const boundary = `=_apple_${id}`;
  return [
    `Content-Type: multipart/appledouble; boundary="${boundary}"`,
    '',
    multipart(boundary, [base64Part(['Content-Type: application/applefile'], header), base64Part(dataForkHeaders, dataFork)]),
  ].join(CRLF);
}

function appleDoubleFiles(): CorpusEmail {
  const subject = 'Files from a Mac (AppleDouble)';
  const text = 'Two Mac files.\n';
  const pdf = pseudoRandomBytes(1200, 'apple-pdf');
  const notes = Buffer.from('Notes from the Mac\r', 'latin1');
  const raw = mixed(subject, 'appledouble', [
    textPart(text),
    appleDouble(
      'named',
      appleDoubleHeader('Report.pdf', 'PDF ', 'CARO', pseudoRandomBytes(300, 'rsrc-1')),
      ['Content-Type: application/pdf; name="Report.pdf"', 'Content-Disposition: attachment; filename="Report.pdf"'],
      pdf,
    ),
    appleDouble('nameless', appleDoubleHeader('Notes', 'TEXT', 'ttxt', Buffer.alloc(0)), ['Content-Type: application/octet-stream'], notes),
  ]);
  return {
    name: 'wrapper-appledouble',
    subject,
    raw,
    expected: {
      parts: [
        textBody(text),
        attachment('Report.pdf', pdf, 'application/pdf', { appleFile: { type: 'PDF ', creator: 'CARO', resourceForkBytes: 300 } }),
        attachment('Notes', notes, 'application/octet-stream', { appleFile: { type: 'TEXT', creator: 'ttxt', resourceForkBytes: 0 } }),
      ],
      email: {},
    },
  };
}

function tnefPart(data: Buffer): string {
  return base64Part(['Content-Type: application/ms-tnef; name="winmail.dat"', 'Content-Disposition: attachment; filename="winmail.dat"'], data);
}

/** Outlook's RTF-only email: no text part, the body is compressed RTF encapsulating HTML. */
function tnefRtfHtmlBody(): CorpusEmail {
  const subject = 'RTF-only email from Outlook';
  const rtf = Buffer.from(
    "{\\rtf1\\ansi\\ansicpg1252\\fromhtml1 \\deff0{\\fonttbl{\\f0\\fswiss Arial;}}\r\n{\\*\\htmltag19 <html>}{\\*\\htmltag50 <body>}{\\*\\htmltag64 <p>}Gr\\'fc\\'dfe aus \\{Outlook\\}\\htmlrtf\\par\\htmlrtf0{\\*\\htmltag72 </p>}{\\*\\htmltag58 </body>}{\\*\\htmltag27 </html>}}",
    'latin1',
  );
  const sheet = pseudoRandomBytes(700, 'budget-xlsx');
  const winmail = tnef({
    messageClass: 'IPM.Note',
    messageProps: [{ type: PT_BINARY, id: 0x1009, value: compressRtf(rtf) }],
    files: [{ title: 'BUDGET~1.XLS', longName: 'Budget 2026.xlsx', data: sheet }],
  });
  const raw = mixed(subject, 'tnef-rtf-html', [tnefPart(winmail)]);
  return {
    name: 'wrapper-tnef-rtf-html-body',
    subject,
    raw,
    expected: {
      parts: [
        htmlBody('<html><body><p>Grüße aus {Outlook}</p></body></html>'),
        attachment('winmail.dat', winmail, 'application/ms-tnef'),
        attachment('Budget 2026.xlsx', sheet, 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'),
      ],
      email: {},
    },
  };
}

/** An Exchange out-of-office reply sent as TNEF only, its body plain RTF: the RTF is the body. */
function tnefOutOfOffice(): CorpusEmail {
  const subject = 'Out of Office: Order 1234';
  const rtf = Buffer.from('{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0 Arial;}}\\f0\\fs20 I am out of the office until Monday.\\par}', 'latin1');
  const winmail = tnef({ messageClass: 'IPM.Note.Rules.OofTemplate.Microsoft', messageProps: [{ type: PT_BINARY, id: 0x1009, value: compressRtf(rtf) }] });
  const raw = email(
    headers(subject, 'tnef-oof', ['Content-Type: application/ms-tnef; name="winmail.dat"', 'Content-Transfer-Encoding: base64']),
    base64Lines(winmail),
  );
  return {
    name: 'wrapper-tnef-out-of-office-rtf-body',
    subject,
    raw,
    expected: {
      parts: [
        { kind: 'body', filename: 'body.rtf', sha256: sha256(rtf), contentType: 'application/rtf' },
        attachment('winmail.dat', winmail, 'application/ms-tnef'),
      ],
      email: { autoReply: { marker: 'TNEF message class: IPM.Note.Rules.OofTemplate.Microsoft' } },
    },
  };
}

/** An email dragged into an Outlook email: inside winmail.dat as an item of its own, delivered as an .eml. */
function tnefEmbeddedMessage(): CorpusEmail {
  const subject = 'FW: the original order';
  const text = 'The original order is attached as an Outlook item.\n';
  const csv = Buffer.from('sku;qty\r\nA-1;3\r\n', 'latin1');
  const innerRtf = Buffer.from(
    '{\\rtf1\\ansi\\ansicpg1252\\fromtext \\deff0{\\fonttbl{\\f0\\fswiss Arial;}}\r\n\\f0\\fs20 Please ship three of A-1.\\par\r\n}',
    'latin1',
  );
  const inner = tnef({
    messageClass: 'IPM.Note',
    messageProps: [
      { type: PT_STRING8, id: 0x0037, value: string8('Original order') },
      { type: PT_STRING8, id: 0x0c1a, value: string8('Kim Lee') },
      { type: PT_STRING8, id: 0x0c1f, value: string8('kim@example.org') },
      { type: PT_SYSTIME, id: 0x0039, value: filetime('2025-06-30T08:00:00Z') },
      { type: PT_BINARY, id: 0x1009, value: compressRtf(innerRtf) },
    ],
    files: [{ title: 'ORDER.CSV', longName: 'order.csv', data: csv }],
  });
  const winmail = tnef({ messageClass: 'IPM.Note', items: [{ displayName: 'Original order', tnef: inner }] });
  const raw = mixed(subject, 'tnef-item', [textPart(text), tnefPart(winmail)]);
  return {
    name: 'wrapper-tnef-embedded-message',
    subject,
    raw,
    expected: {
      parts: [
        textBody(text),
        attachment('winmail.dat', winmail, 'application/ms-tnef'),
        {
          kind: 'attachment',
          filename: 'Original order.eml',
          sha256: '',
          contentType: 'message/rfc822',
          parsedAs: {
            subject: 'Original order',
            from: 'kim@example.org',
            text: 'Please ship three of A-1.\n',
            attachments: [{ filename: 'order.csv', sha256: sha256(csv) }],
          },
        },
      ],
      email: {},
    },
  };
}

/** Outlook items attached as .msg (application/vnd.ms-outlook): delivered as they came. */
function outlookItems(): CorpusEmail {
  const subject = 'Outlook items attached';
  const text = 'Two Outlook items.\n';
  const cfb = (seed: string): Buffer => Buffer.concat([Buffer.from('d0cf11e0a1b11ae1', 'hex'), pseudoRandomBytes(1500, seed)]);
  const [named, nameless] = [cfb('msg-named'), cfb('msg-nameless')];
  const raw = mixed(subject, 'outlook-items', [
    textPart(text),
    base64Part(['Content-Type: application/vnd.ms-outlook; name="Meeting notes.msg"', 'Content-Disposition: attachment; filename="Meeting notes.msg"'], named),
    base64Part(['Content-Type: application/vnd.ms-outlook'], nameless),
  ]);
  return {
    name: 'wrapper-outlook-items',
    subject,
    raw,
    expected: {
      parts: [
        textBody(text),
        attachment('Meeting notes.msg', named, 'application/vnd.ms-outlook'),
        attachment('attachment-2.msg', nameless, 'application/vnd.ms-outlook'),
      ],
      email: {},
    },
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
    deliveryFailure(),
    deliveryDelayed(),
    readReceipt(),
    abuseReport(),
    ...autoReplies(),
    smimeMultipartSigned(),
    pgpMultipartSigned(),
    smimeOpaqueSigned(false),
    smimeOpaqueSigned(true),
    smimeEncrypted(),
    smimeEncryptedWithoutSmimeType(),
    pgpEncrypted(),
    appleDoubleFiles(),
    tnefRtfHtmlBody(),
    tnefOutOfOffice(),
    tnefEmbeddedMessage(),
    outlookItems(),
  ];
}

export type { ExpectedPart };
export { sha256 };
