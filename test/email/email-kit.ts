/** Shared pieces of the email destination tests: a destination on the fake SMTP server, and pipeline messages to send. */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { type ParsedMail, simpleParser } from 'mailparser';
import type { OutgoingMessage } from '../../src/model/destination.ts';
import type { Envelope } from '../../src/model/envelope.ts';
import type { FakeSmtp } from '../support/fake-smtp.ts';

export const SENDER = 'postroom-out';
export const SENDER_PASSWORD = 'smtp-pass-123';

export function smtpDestination(smtp: FakeSmtp, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'email',
    from: 'postroom@contoso.test',
    to: ['ap@example.test'],
    smtp: { host: '127.0.0.1', port: smtp.port, username: SENDER, password: SENDER_PASSWORD, tls: { ca: smtp.caPem } },
    ...extra,
  };
}

export function outgoing(content: Buffer, overrides: Partial<Envelope> = {}): OutgoingMessage {
  const envelope: Envelope = {
    id: createHash('sha256').update(content).update(JSON.stringify(overrides)).digest('hex').slice(0, 32),
    connection: 'inbox',
    kind: 'attachment',
    filename: 'invoice.pdf',
    contentType: 'application/pdf',
    size: content.length,
    sha256: createHash('sha256').update(content).digest('hex'),
    partIndex: 1,
    source: { protocol: 'imap', folder: 'INBOX', uidValidity: '1', uid: 7 },
    email: { messageId: '<original@example.test>', from: 'supplier@example.test', to: ['invoices@contoso.test'], cc: [], subject: 'Invoice 42', date: null },
    receivedAt: '2025-07-01T10:00:00.000Z',
    ...overrides,
  };
  return { envelope, openContent: () => Readable.from([content]) };
}

export function parse(raw: Buffer): Promise<ParsedMail> {
  return simpleParser(raw);
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
