/**
 * One pipeline message as one email (nodemailer's message options). Everything in it derives
 * from the envelope, so a retried send is the same email: Message-ID `<{id}@postroom>`, Date the
 * pickup time, MIME boundaries seeded by the id.
 *
 * A `body` message becomes the email's body (HTML when its content type is text/html); an
 * attachment (or the original of an email that could not be split) travels as the one attachment,
 * under its file name and content type, with a line of text saying where it came from.
 */
import type { Readable } from 'node:stream';
import type { Envelope } from '../model/envelope.ts';

export interface ComposeOptions {
  from: string;
  to: string[];
  cc: string[];
  /** Extra header fields (the CloudEvents attributes). */
  headers?: Record<string, string>;
  /** `{subject}`, `{filename}`, `{connection}`, `{kind}` are replaced from the envelope. */
  subject: string;
}

export interface ComposedMail {
  from: string;
  to: string[];
  cc?: string[];
  subject: string;
  messageId: string;
  date: Date;
  baseBoundary: string;
  headers: Record<string, string>;
  text?: string | Readable;
  html?: Readable;
  attachments?: Array<{ filename: string; content: Readable; contentType: string; contentDisposition: 'attachment' | 'inline'; cid?: string }>;
}

/** The Message-ID of a pipeline message's email: the same on every attempt, so receivers can drop a repeat. */
export function pipelineMessageId(envelope: Envelope): string {
  return `<${envelope.id}@postroom>`;
}

function render(template: string, envelope: Envelope): string {
  const values: Record<string, string> = {
    subject: envelope.email.subject ?? '(no subject)',
    filename: envelope.filename,
    connection: envelope.connection,
    kind: envelope.kind,
  };
  return template.replace(/\{(subject|filename|connection|kind)\}/g, (_match, key: string) => values[key] ?? '');
}

export function composeMail(envelope: Envelope, content: Readable, options: ComposeOptions): ComposedMail {
  const mail: ComposedMail = {
    from: options.from,
    to: options.to,
    subject: render(options.subject, envelope),
    messageId: pipelineMessageId(envelope),
    date: new Date(envelope.receivedAt),
    baseBoundary: envelope.id,
    headers: {
      'X-Postroom-Id': envelope.id,
      'X-Postroom-Connection': envelope.connection,
      'X-Postroom-Kind': envelope.kind,
      ...(envelope.email.messageId ? { 'X-Postroom-Original-Message-Id': envelope.email.messageId } : {}),
      ...options.headers,
    },
  };
  if (options.cc.length) mail.cc = options.cc;
  if (envelope.kind === 'body') {
    if (/^text\/html\b/i.test(envelope.contentType)) mail.html = content;
    else mail.text = content;
    return mail;
  }
  const from = envelope.email.from ? ` from ${envelope.email.from}` : '';
  mail.text = `${envelope.filename}${from}, subject "${envelope.email.subject ?? ''}" (Postroom connection ${envelope.connection}).\n`;
  mail.attachments = [
    {
      filename: envelope.filename,
      content,
      contentType: envelope.contentType,
      contentDisposition: envelope.inline ? 'inline' : 'attachment',
      ...(envelope.contentId ? { cid: envelope.contentId.replace(/^<|>$/g, '') } : {}),
    },
  ];
  return mail;
}
