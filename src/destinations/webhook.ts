/**
 * Webhook destination: one HTTP POST per pipeline message.
 *
 * The request (what a receiver can rely on):
 *   - body: the content, byte for byte, streamed from the content store (never whole in memory);
 *     `Content-Type` is envelope.contentType (application/octet-stream if that is not a valid
 *     header value) and `Content-Length` envelope.size.
 *   - `Postroom-Envelope`: the envelope as JSON, base64url-encoded (a header, not multipart, so
 *     the body stays the plain content a receiver can store or hash as it is; base64url because
 *     header values must be ASCII and file names and subjects are not). At most
 *     `maxEnvelopeHeaderBytes` (4 KB): a bigger envelope (hundreds of recipients) is shortened
 *     to fit, recipients first (envelope-header.ts), and `Postroom-Envelope-Shortened: true` says
 *     so. With `envelope: body` the body is multipart/form-data instead: an `envelope` part with
 *     the whole envelope, then a `content` part, and there is no envelope header.
 *   - `webhook-id` and `Idempotency-Key`: envelope.id, the same on every attempt: the outbox
 *     delivers at least once, a receiver that keeps the ids it has seen gets each message once.
 *   - Standard Webhooks (standardwebhooks.com): `webhook-timestamp: <unix seconds>` and, with
 *     `secret`, `webhook-signature: v1,<base64 HMAC-SHA256(key, "<webhook-id>.<timestamp>.<body>")>`,
 *     the key being the base64 after `whsec_`; one `v1,…` per configured secret, separated by
 *     spaces (rotation: a receiver holding the old or the new secret verifies it). Any Standard
 *     Webhooks verifier checks it and refuses timestamps more than five minutes off. The
 *     signature covers id, timestamp and body, not the other headers; so the envelope header has
 *     its own, `Postroom-Envelope-Signature`, the same `v1,…` form over
 *     "<webhook-id>.<timestamp>.<Postroom-Envelope as sent>" (a Standard Webhooks verifier checks
 *     it with the header's value as the payload). Signing the body before
 *     sending it means reading the content twice (once to sign, once to send), which keeps
 *     memory flat for large attachments.
 *   - `format: cloudevents`: a CloudEvents 1.0 event in HTTP binary content mode, the same body
 *     with the attributes as `ce-*` headers (see cloudevents.ts); `format: cloudevents-structured`:
 *     the body is one CloudEvents JSON document (`application/cloudevents+json`) with the content
 *     as `data_base64`, streamed (its Content-Length is known before it is encoded). The other
 *     headers are the same in every format.
 *   - `traceparent` (W3C trace context, and `tracestate` when there is one) when Postroom is
 *     traced: the delivery's span, so the receiver's trace continues the email's; in the
 *     CloudEvents formats also as the `traceparent` extension attribute.
 *   - plain http:// only to loopback, unless `allowInsecureHttp: true`: emails (and the signed
 *     requests a man in the middle could replay) do not cross a network unencrypted by accident.
 *
 * The answer: 2xx delivered; 408, 429 and 5xx (and timeouts, refused or dropped connections)
 * are retried (DELIVERY_FAILED) honouring Retry-After in seconds or as an HTTP date; any other
 * status is a refusal for good (DELIVERY_REJECTED: dead letter at once). Redirects are not
 * followed: the body would have to be sent again to a place nobody configured.
 */
import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { secretKey, type WebhookOptions, webhookSecrets } from '../config/destinations/webhook-options.ts';
import type { DeliveryReceipt, Destination, DestinationContext, OutgoingMessage } from '../model/destination.ts';
import { PostroomError } from '../model/errors.ts';
import { traceHeaders } from '../model/tracing.ts';
import { parseRetryAfter } from '../net/server-wait.ts';
import { binaryHeaders, eventAttributes, STRUCTURED_CONTENT_TYPE, structuredEvent } from './cloudevents.ts';
import { envelopeHeader } from './envelope-header.ts';

export { DEFAULT_WEBHOOK_TIMEOUT, type WebhookOptions, webhookOptions } from '../config/destinations/webhook-options.ts';

/** Of an error response, this much is kept for the dead letter's reason; the rest is discarded. */
const ERROR_BODY_CHARS = 300;
/** What an HTTP header value may hold; an email can declare any bytes as its content type. */
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;
const FALLBACK_CONTENT_TYPE = 'application/octet-stream';

/**
 * The Standard Webhooks `webhook-signature` value: `v1,<base64 HMAC-SHA256>` over
 * "<id>.<timestamp>.<body>" for each key, space-separated, the body read once for all of them.
 */
async function standardSignature(keys: Buffer[], id: string, timestamp: string, body: AsyncIterable<unknown> | Iterable<Buffer>): Promise<string> {
  const hmacs = keys.map((key) => createHmac('sha256', key).update(`${id}.${timestamp}.`));
  for await (const chunk of body) for (const hmac of hmacs) hmac.update(chunk as Buffer);
  return hmacs.map((hmac) => `v1,${hmac.digest('base64')}`).join(' ');
}

interface RequestBody {
  /** Content-Type and, in binary content mode, the ce- headers. */
  headers: Record<string, string>;
  length: number;
  /** The body afresh (read once to sign it, once to send it). */
  open(): Readable;
}

/** A file name as a quoted-string parameter: ASCII only (the real name is in the envelope part). */
function asciiFilename(filename: string): string {
  return filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
}

/**
 * `envelope: body`: multipart/form-data (RFC 7578), the `envelope` part (JSON) first, then the
 * `content` part with the bytes as they are. Every framework's form parser reads it.
 */
function multipartBody(message: OutgoingMessage, contentType: string): RequestBody {
  const { envelope } = message;
  const boundary = `postroom-${randomBytes(16).toString('hex')}`;
  const head = Buffer.from(
    [
      `--${boundary}`,
      'Content-Disposition: form-data; name="envelope"',
      'Content-Type: application/json',
      '',
      JSON.stringify(envelope),
      `--${boundary}`,
      `Content-Disposition: form-data; name="content"; filename="${asciiFilename(envelope.filename)}"`,
      `Content-Type: ${contentType}`,
      '',
      '',
    ].join('\r\n'),
    'utf8',
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`, 'ascii');
  return {
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    length: head.length + envelope.size + tail.length,
    open: () => {
      const content = message.openContent();
      return Readable.from(
        (async function* () {
          yield head;
          yield* content;
          yield tail;
        })(),
      );
    },
  };
}

/** What the POST carries in each format: the content as it is, with ce- headers, or inside a CloudEvents document. */
function requestBody(message: OutgoingMessage, options: WebhookOptions, trace: Record<string, string>): RequestBody {
  const { envelope } = message;
  const { format } = options;
  const contentType = HEADER_VALUE.test(envelope.contentType) ? envelope.contentType : FALLBACK_CONTENT_TYPE;
  if (options.envelope === 'body') return multipartBody(message, contentType);
  if (format === 'cloudevents-structured') {
    const document = structuredEvent(eventAttributes(envelope, trace), envelope.size);
    return { headers: { 'content-type': STRUCTURED_CONTENT_TYPE }, length: document.length, open: () => document.open(message.openContent()) };
  }
  const headers: Record<string, string> = { 'content-type': contentType };
  if (format === 'cloudevents') Object.assign(headers, binaryHeaders(eventAttributes(envelope, trace)));
  return { headers, length: envelope.size, open: () => message.openContent() };
}

interface WebhookAnswer {
  status: number;
  retryAfter: string | undefined;
  location: string | undefined;
  excerpt: string;
}

/** Reads at most ERROR_BODY_CHARS of an answer's body and drains the rest, so the socket can be reused. */
async function readAnswer(response: http.IncomingMessage): Promise<WebhookAnswer> {
  let excerpt = '';
  for await (const chunk of response) {
    if (excerpt.length < ERROR_BODY_CHARS) excerpt += (chunk as Buffer).toString('utf8');
  }
  const header = (name: string): string | undefined => {
    const value = response.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  return {
    status: response.statusCode ?? 0,
    retryAfter: header('retry-after'),
    location: header('location'),
    excerpt: excerpt.slice(0, ERROR_BODY_CHARS).replace(/\s+/g, ' ').trim(),
  };
}

export function createWebhookDestination(name: string, options: WebhookOptions, _context: DestinationContext): Destination {
  const keys = webhookSecrets(options).map(secretKey);
  const url = new URL(options.url);
  // The URL's path or query may hold a token: errors and logs name the origin only.
  const where = url.origin;
  const transport = url.protocol === 'https:' ? https : http;
  const agent = new transport.Agent({ keepAlive: true });

  const post = (body: () => Readable, headers: http.OutgoingHttpHeaders): Promise<WebhookAnswer> =>
    new Promise<WebhookAnswer>((resolve, reject) => {
      const request = transport.request(url, { method: 'POST', headers, agent, timeout: options.timeout });
      // A receiver may answer (say 400) before it has read the whole body and close the socket:
      // once there is an answer, the upload's own errors no longer matter.
      let answered = false;
      let timedOut = false;
      const fail = (error: unknown): void => {
        if (answered) return;
        reject(timedOut ? new PostroomError('DELIVERY_FAILED', `${where} was silent for ${options.timeout} ms (timeout)`) : error);
      };
      request.on('timeout', () => {
        timedOut = true;
        request.destroy();
        fail(undefined);
      });
      request.on('response', (response) => {
        answered = true;
        readAnswer(response).then(resolve, reject);
      });
      request.on('error', fail);
      pipeline(body(), request).catch(fail);
    });

  return {
    name,
    type: 'webhook',
    async deliver(message: OutgoingMessage): Promise<DeliveryReceipt> {
      const { envelope } = message;
      const trace = traceHeaders();
      const shape = requestBody(message, options, trace);
      const timestamp = String(Math.floor(Date.now() / 1000));
      const headers: http.OutgoingHttpHeaders = {
        ...options.headers,
        ...shape.headers,
        'content-length': shape.length,
        'idempotency-key': envelope.id,
        'webhook-id': envelope.id,
        'webhook-timestamp': timestamp,
        ...trace,
      };
      if (options.envelope === 'header') {
        const header = envelopeHeader(envelope, options.maxEnvelopeHeaderBytes);
        headers['postroom-envelope'] = header.value;
        if (header.shortened) headers['postroom-envelope-shortened'] = 'true';
        // The body's signature does not cover headers: the envelope gets one of its own, in the same form.
        if (keys.length > 0)
          headers['postroom-envelope-signature'] = await standardSignature(keys, envelope.id, timestamp, [Buffer.from(header.value, 'ascii')]);
      }
      if (keys.length > 0) headers['webhook-signature'] = await standardSignature(keys, envelope.id, timestamp, shape.open());
      let answer: WebhookAnswer;
      try {
        answer = await post(shape.open, headers);
      } catch (error) {
        if (error instanceof PostroomError) throw error;
        throw new PostroomError('DELIVERY_FAILED', `POST to ${where} failed: ${(error as Error).message}`, { cause: error });
      }
      const { status } = answer;
      if (status >= 200 && status < 300) return { reply: `${where} answered ${status}` };
      const said = `${where} answered ${status}${answer.excerpt ? `: ${answer.excerpt}` : ''}`;
      if (status === 408 || status === 429 || status >= 500) {
        const retryAfterMs = parseRetryAfter(answer.retryAfter, Date.now());
        throw new PostroomError('DELIVERY_FAILED', said, retryAfterMs === undefined ? {} : { retryAfterMs });
      }
      const hint =
        status >= 300 && status < 400
          ? `redirects are not followed; set url to where it points${answer.location ? ` (${new URL(answer.location, url).origin})` : ''}`
          : status === 431
            ? 'the receiver refused the size of the headers: lower maxEnvelopeHeaderBytes or set envelope: body, then replay with `postroom dead-letters replay`'
            : 'fix the receiver, then replay with `postroom dead-letters replay`';
      throw new PostroomError('DELIVERY_REJECTED', said, { hint });
    },
    async close(): Promise<void> {
      agent.destroy();
    },
  };
}
