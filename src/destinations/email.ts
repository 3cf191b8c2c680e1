/**
 * Email destination: each pipeline message is sent as one email (see email-compose.ts), through
 * SMTP (nodemailer; password or OAuth2 XOAUTH2) or Microsoft Graph `sendMail` (MIME).
 *
 * Idempotency: the Message-ID is `<{envelope.id}@postroom>` and the whole email is derived from
 * the envelope, so a retry after a lost answer sends the same email again, which receivers and
 * mail stores recognise by its Message-ID.
 *
 * Throttling ("the system also pauses sending outgoing emails from the email account
 * that is throttled"): before sending, the account's throttle in the store is checked; while it
 * runs nothing is sent and the delivery is retried when it ends (DELIVERY_FAILED with
 * retryAfterMs). A throttling answer while sending (SMTP 421 / 450 / 451 / 454, 4.7.x, quota;
 * Graph 429 / 503) is classified by the throttle classifier and sets the account's throttle, so
 * reading the same account pauses too.
 *
 * `format: cloudevents`: each CloudEvents attribute also as a `ce-<name>` header field of the
 * email, named and percent-encoded as in the HTTP binding (cloudevents.ts); the event's data is
 * the attachment (or the body). There is no structured mode.
 */
import { Readable } from 'node:stream';
import nodemailer from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer';
import { graphTokenProvider, oauth2TokenProvider } from '../auth/provider-for.ts';
import type { EmailOptions } from '../config/destinations/email-options.ts';
import type { DeliveryReceipt, Destination, DestinationContext, OutgoingMessage } from '../model/destination.ts';
import { errorMessage, isPostroomError, PostroomError } from '../model/errors.ts';
import type { RequestCounter } from '../model/request-counter.ts';
import { traceHeaders } from '../model/tracing.ts';
import { resolveCa } from '../net/probe.ts';
import { GraphClient } from '../sources/graph/graph-client.ts';
import { classify, type ThrottleSignal } from '../throttle/classify.ts';
import { compileThrottlePatterns } from '../throttle/patterns.ts';
import { binaryHeaders, eventAttributes } from './cloudevents.ts';
import { type ComposedMail, composeMail } from './email-compose.ts';

/**
 * Graph sendMail takes at most 4 MB per request (learn.microsoft.com "user: sendMail", MIME format);
 * the MIME travels base64-encoded, so the content itself must stay under about 3 MB minus headers.
 */
const GRAPH_SENDMAIL_MAX_CONTENT_BYTES = 2_900_000;

/** SMTP connections kept open per destination: enough to overlap sends, few enough for providers' concurrent-connection limits (Office 365: 3). */
const SMTP_MAX_CONNECTIONS = 2;

/** How long an SMTP server may stay silent (connect, greeting, any reply) before the attempt fails. */
const SMTP_TIMEOUT_MS = 60_000;

export { type EmailOptions, emailOptions } from '../config/destinations/email-options.ts';

interface Sender {
  /** Resolves with what the server said on accepting it. */
  send(mail: ComposedMail): Promise<string>;
  close(): void;
}

/** The SMTP reply nodemailer attached to its error, if any. */
interface SmtpFailure {
  code?: string;
  response?: string;
  responseCode?: number;
  command?: string;
}

function smtpSender(options: NonNullable<EmailOptions['smtp']>): Sender {
  const oauth = options.oauth2 ? oauth2TokenProvider(options.oauth2) : undefined;
  const ca = resolveCa(options.tls.ca);
  const transport = nodemailer.createTransport({
    pool: true,
    maxConnections: SMTP_MAX_CONNECTIONS,
    host: options.host,
    port: options.port ?? (options.secure ? 465 : 587),
    secure: options.secure,
    requireTLS: !options.secure && options.startTls,
    ignoreTLS: !options.secure && !options.startTls,
    connectionTimeout: SMTP_TIMEOUT_MS,
    greetingTimeout: SMTP_TIMEOUT_MS,
    socketTimeout: SMTP_TIMEOUT_MS,
    tls: {
      rejectUnauthorized: options.tls.rejectUnauthorized,
      ...(ca ? { ca } : {}),
      ...(options.tls.servername ? { servername: options.tls.servername } : {}),
    },
    ...(oauth
      ? { auth: { type: 'OAuth2' as const, user: options.username ?? '' } }
      : options.username
        ? { auth: { user: options.username, pass: options.password ?? '' } }
        : {}),
    logger: false,
  });
  if (oauth) {
    // nodemailer asks again with renew=true when the server refuses the token (XOAUTH2 334 challenge).
    transport.set('oauth2_provision_cb', (_user: string, renew: boolean, callback: (error: Error | null, token?: string, expires?: number) => void) => {
      if (renew) oauth.invalidate();
      // expires = now: nodemailer keeps no copy, every login asks the provider (which caches).
      oauth.getToken().then(
        (token) => callback(null, token, Date.now()),
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      );
    });
  }
  return {
    async send(mail) {
      const info = await transport.sendMail({ ...mail });
      return `SMTP: ${String(info.response ?? 'accepted').slice(0, 200)}`;
    },
    close() {
      transport.close();
    },
  };
}

function graphSender(options: NonNullable<EmailOptions['graph']>, requests: RequestCounter | undefined): Sender {
  // Sending counts against the mailbox's request budget too, in the store every worker shares.
  const client = new GraphClient(options, graphTokenProvider(options), requests ? { requests } : {});
  return {
    async send(mail) {
      // MIME sendMail: the body is the base64 of the whole message (learn.microsoft.com "Send Outlook messages in MIME format").
      const mime = await new MailComposer({ ...mail }).compile().build();
      await client.json({
        method: 'POST',
        path: 'sendMail',
        raw: { body: Buffer.from(mime.toString('base64')), contentType: 'text/plain' },
        stage: 'send',
        what: `sendMail from ${options.mailbox}`,
      });
      return `Graph sendMail from ${options.mailbox}: accepted`;
    },
    close() {},
  };
}

/** The failure as the throttle classifier reads it, when it carries the server's answer. */
function signalOf(error: unknown): ThrottleSignal | undefined {
  if (isPostroomError(error)) return error.signal;
  const failure = (error ?? {}) as SmtpFailure;
  if (typeof failure.response === 'string' && failure.response) {
    return {
      kind: 'reply',
      protocol: 'smtp',
      text: failure.response,
      ...(failure.responseCode ? { status: failure.responseCode } : {}),
      ...(failure.command ? { command: failure.command } : {}),
    };
  }
  return undefined;
}

export function createEmailDestination(name: string, options: EmailOptions, context: DestinationContext): Destination {
  const account =
    options.throttleAccount ??
    (options.graph ? `graph/${options.graph.mailbox.toLowerCase()}` : `${options.smtp!.host.toLowerCase()}/${(options.smtp!.username ?? '').toLowerCase()}`);
  const patterns = compileThrottlePatterns({
    ...(options.throttlePattern !== undefined ? { connection: options.throttlePattern } : {}),
    connectionName: `destination ${name}`,
  });
  let sender: Sender | undefined;
  const pause = context.accountPause;
  const now = (): number => Date.now();

  /** The account is throttled: record it (every worker stops reading and sending) and wait. */
  const throttled = async (waitMs: number, reason: string, cause: unknown): Promise<PostroomError> => {
    await pause?.pause(account, waitMs, reason);
    context.log.warn({ account, reason, until: new Date(now() + waitMs).toISOString() }, 'sending account throttled by the provider: sending pauses');
    return new PostroomError('THROTTLED', `${account} is throttled: ${reason}`, { cause, retryAfterMs: waitMs });
  };

  return {
    name,
    type: 'email',
    async deliver(message: OutgoingMessage): Promise<DeliveryReceipt> {
      const { envelope } = message;
      // A record whose wait is over is ended by this send's success (below).
      const throttle = await pause?.record(account);
      if (throttle && throttle.until > now()) {
        throw new PostroomError('THROTTLED', `sending waits: ${account} is throttled until ${new Date(throttle.until).toISOString()} (${throttle.reason})`, {
          retryAfterMs: throttle.until - now(),
        });
      }
      if (options.graph && envelope.size > GRAPH_SENDMAIL_MAX_CONTENT_BYTES) {
        throw new PostroomError('DELIVERY_REJECTED', `${envelope.filename} (${envelope.size} bytes) is larger than Graph sendMail takes (4 MB per request)`, {
          hint: 'Send large files through smtp: instead of graph:.',
        });
      }
      sender ??= options.graph ? graphSender(options.graph, context.requests) : smtpSender(options.smtp!);
      const cloudEvent = options.format === 'cloudevents' ? { headers: binaryHeaders(eventAttributes(envelope, traceHeaders())) } : {};
      const mail = composeMail(envelope, message.openContent(), {
        from: options.from,
        to: options.to,
        cc: options.cc ?? [],
        subject: options.subject,
        ...cloudEvent,
      });
      let reply: string;
      try {
        reply = await sender.send(mail);
      } catch (error) {
        const signal = signalOf(error);
        if (signal) {
          const consecutive = (await pause?.record(account))?.consecutive ?? 0;
          const verdict = classify(signal, { patterns }, { consecutive, now: now() });
          if (verdict.throttled) {
            const wait = isPostroomError(error) && error.retryAfterMs !== undefined ? Math.max(error.retryAfterMs, verdict.waitMs) : verdict.waitMs;
            throw await throttled(wait, verdict.reason, error);
          }
        } else if (isPostroomError(error, 'THROTTLED')) {
          // Refused before sending: the Graph mailbox gate is still in a penalty.
          throw new PostroomError('THROTTLED', errorMessage(error), {
            cause: error,
            ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
          });
        }
        throw deliveryError(error, account);
      } finally {
        for (const attachment of mail.attachments ?? []) attachment.content.destroy();
        for (const part of [mail.text, mail.html]) if (part instanceof Readable) part.destroy();
      }
      if (throttle) await pause?.resume(account);
      return { reply };
    },
    async close(): Promise<void> {
      sender?.close();
    },
  };
}

/** Anything that is not throttling: refusals for good go to the dead letters at once, the rest is retried. */
function deliveryError(error: unknown, account: string): PostroomError {
  if (isPostroomError(error)) {
    if (error.code === 'DELIVERY_FAILED' || error.code === 'DELIVERY_REJECTED') return error;
    const forGood = error.code === 'AUTH_FAILED' || error.code === 'AUTH_REVOKED' || !error.retryable;
    return new PostroomError(forGood ? 'DELIVERY_REJECTED' : 'DELIVERY_FAILED', `sending from ${account}: ${error.explain()}`, { cause: error });
  }
  const failure = (error ?? {}) as SmtpFailure;
  const words = failure.response ?? (error instanceof Error ? error.message : String(error));
  if (failure.code === 'EAUTH') {
    return new PostroomError('DELIVERY_REJECTED', `the SMTP server refused the login for ${account}: ${words}`, {
      cause: error,
      serverResponse: words,
      hint: 'Check smtp.username and smtp.password (or smtp.oauth2); Microsoft 365 needs SMTP AUTH enabled for the mailbox.',
    });
  }
  if (failure.responseCode !== undefined && failure.responseCode >= 500) {
    return new PostroomError('DELIVERY_REJECTED', `the SMTP server refused the email: ${words}`, { cause: error, serverResponse: words });
  }
  return new PostroomError('DELIVERY_FAILED', `sending from ${account}: ${words}`, {
    cause: error,
    ...(failure.response ? { serverResponse: failure.response } : {}),
  });
}
