/**
 * A mailbox an invoices connection shares with everything else: invoices with PDF and XML
 * attachments, an invoice too large, one without attachments, a newsletter, an out-of-office
 * reply and a bounce, and the filter, attachment selection and routes that take only the
 * invoices and send each part where it belongs.
 */
import { join } from 'node:path';
import { type Config, type ConnectionInput, configSchema } from '../../src/config/schema.ts';
import { attachmentPart, CRLF, joinPart, multipart, pseudoRandomBytes, qpTextPart } from './mime-writer.ts';
import { readDelivered, type Workspace } from './postroom.ts';

export interface MailboxEmail {
  subject: string;
  raw: Buffer;
  /** Taken by FILTER, or the condition that leaves it out. */
  verdict: 'taken' | 'from' | 'attachmentTypes' | 'maxSize' | 'autoReplies' | 'bounces';
}

const PDF = (seed: string, size = 4000): Buffer => Buffer.concat([Buffer.from('%PDF-1.7\n'), pseudoRandomBytes(size, seed)]);
const XML = (n: number): Buffer => Buffer.from(`<?xml version="1.0"?><Invoice><ID>${n}</ID></Invoice>\n`);

/** An email from `from` to invoices@buyer.example: text only, or multipart/mixed with the attachments given. */
export function filterEmail(
  subject: string,
  from: string,
  body: { text: string; attachments?: Array<{ filename: string; contentType: string; content: Buffer }> },
  extra: string[] = [],
): Buffer {
  const id = `${subject.replace(/\W+/g, '-')}-${from.replace(/\W+/g, '-')}`;
  const boundary = `=_mixed_${id}`;
  const head = [
    `From: ${from}`,
    'To: invoices@buyer.example',
    `Subject: ${subject}`,
    'Date: Tue, 01 Jul 2025 10:00:00 +0000',
    `Message-ID: <${id}@test>`,
    'MIME-Version: 1.0',
    ...extra,
  ];
  const text = qpTextPart('text/plain', body.text);
  // A text-only email: the text part's own headers are the email's.
  if (!body.attachments?.length) return Buffer.from(`${head.join(CRLF)}${CRLF}${text}`);
  const parts = [text, ...body.attachments.map((a) => joinPart(attachmentPart(a)))];
  return Buffer.from(`${[...head, `Content-Type: multipart/mixed; boundary="${boundary}"`].join(CRLF)}${CRLF}${CRLF}${multipart(boundary, parts)}`);
}

function bounce(): Buffer {
  const boundary = '=_report_1';
  const head = [
    'From: MAILER-DAEMON@supplier.example',
    'To: invoices@buyer.example',
    'Subject: Undelivered Mail Returned to Sender',
    'Date: Tue, 01 Jul 2025 10:05:00 +0000',
    'Message-ID: <bounce-1@supplier.example>',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
  ];
  const status = [
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mx.supplier.example',
    '',
    'Final-Recipient: rfc822; nobody@buyer.example',
    'Action: failed',
    'Status: 5.1.1',
  ].join(CRLF);
  return Buffer.from(`${head.join(CRLF)}${CRLF}${CRLF}${multipart(boundary, [qpTextPart('text/plain', 'Your message could not be delivered.'), status])}`);
}

export const MAILBOX: MailboxEmail[] = [
  {
    subject: 'Invoice 1001',
    raw: filterEmail('Invoice 1001', 'Billing <billing@supplier.example>', {
      text: 'Invoice 1001 attached.',
      attachments: [{ filename: 'invoice-1001.pdf', contentType: 'application/pdf', content: PDF('1001') }],
    }),
    verdict: 'taken',
  },
  {
    subject: 'Newsletter July',
    raw: filterEmail('Newsletter July', 'Shop News <news@shop.example>', { text: 'Our summer offers.' }),
    verdict: 'from',
  },
  {
    subject: 'Invoice 1002',
    raw: filterEmail('Invoice 1002', 'AP <ap@supplier.example>', {
      text: 'Invoice 1002 as XML.',
      attachments: [{ filename: 'invoice-1002.xml', contentType: 'application/xml', content: XML(1002) }],
    }),
    verdict: 'taken',
  },
  {
    subject: 'Automatic reply: Invoice 1001',
    raw: filterEmail('Automatic reply: Invoice 1001', 'Billing <billing@supplier.example>', { text: 'I am out of the office.' }, [
      'Auto-Submitted: auto-replied',
    ]),
    verdict: 'autoReplies',
  },
  {
    subject: 'Invoice 1003',
    raw: filterEmail('Invoice 1003', 'Billing <billing@supplier.example>', {
      text: 'A large one.',
      attachments: [{ filename: 'invoice-1003.pdf', contentType: 'application/pdf', content: PDF('1003', 300_000) }],
    }),
    verdict: 'maxSize',
  },
  { subject: 'Undelivered Mail Returned to Sender', raw: bounce(), verdict: 'bounces' },
  {
    subject: 'Invoice 1004',
    raw: filterEmail('Invoice 1004', 'Billing <billing@supplier.example>', { text: 'Invoice to follow, nothing attached.' }),
    verdict: 'attachmentTypes',
  },
  {
    subject: 'Rechnung 77',
    raw: filterEmail('Rechnung 77', 'Billing <billing@supplier.example>', {
      text: 'Rechnung anbei.',
      attachments: [
        { filename: 'rechnung-77.pdf', contentType: 'application/pdf', content: PDF('77') },
        { filename: 'logo.png', contentType: 'image/png', content: pseudoRandomBytes(500, 'logo') },
      ],
    }),
    verdict: 'taken',
  },
];

/** The invoices connection's filter, attachment selection and routes (destinations pdfs, bodies, out). */
export const INVOICE_RULES = {
  filter: {
    from: ['*@supplier.example'],
    subject: ['Invoice *', '/^(Rechnung|Factura)\\b/i'],
    attachmentTypes: ['application/pdf', '*.xml'],
    maxSize: '200KB',
    autoReplies: 'skip',
    bounces: 'skip',
  },
  attachments: ['*', '!image/*'],
  routes: [
    { when: { kind: 'attachment', contentType: 'application/pdf' }, destination: 'pdfs' },
    { when: { kind: 'body' }, destination: 'bodies' },
  ],
} satisfies Partial<ConnectionInput>;

export const TAKEN = MAILBOX.filter((email) => email.verdict === 'taken').map((email) => email.subject);
export const LEFT = MAILBOX.filter((email) => email.verdict !== 'taken');

/** A config with the three destinations INVOICE_RULES routes to: out, pdfs, bodies. */
export function routedConfig(ws: Workspace, connection: ConnectionInput): Config {
  return configSchema.parse({
    store: ws.dataDir,
    destinations: {
      out: { type: 'directory', path: ws.outDir },
      pdfs: { type: 'directory', path: join(ws.dir, 'pdfs') },
      bodies: { type: 'directory', path: join(ws.dir, 'bodies') },
    },
    connections: [connection],
  });
}

/** What each destination of routedConfig holds, as `subject/filename` (bodies: `subject/kind`). */
export async function deliveredByRoute(ws: Workspace): Promise<{ pdfs: string[]; bodies: string[]; out: string[] }> {
  return {
    pdfs: (await readDelivered(join(ws.dir, 'pdfs'))).map((d) => `${d.envelope.email.subject}/${d.envelope.filename}`).sort(),
    bodies: (await readDelivered(join(ws.dir, 'bodies'))).map((d) => `${d.envelope.email.subject}/${d.envelope.kind}`).sort(),
    out: (await readDelivered(ws.outDir)).map((d) => `${d.envelope.email.subject}/${d.envelope.filename}`).sort(),
  };
}

/** What routedConfig's destinations hold once MAILBOX is taken with INVOICE_RULES. */
export const ROUTED = {
  pdfs: ['Invoice 1001/invoice-1001.pdf', 'Rechnung 77/rechnung-77.pdf'],
  bodies: ['Invoice 1001/body', 'Invoice 1002/body', 'Rechnung 77/body'],
  out: ['Invoice 1002/invoice-1002.xml'],
};
