/**
 * Webhook destination: one HTTP POST per pipeline message.
 *
 * The request (what a receiver can rely on):
 *   - body: the content, byte for byte, streamed from the content store (never whole in memory);
 *     `Content-Type` is envelope.contentType (application/octet-stream if that is not a valid
 *     header value) and `Content-Length` envelope.size.
 *   - `Postroom-Envelope`: the envelope as JSON, base64url-encoded (a header, not multipart, so
 *     the body stays the plain content a receiver can store or hash as it is; base64url because
 *     header values must be ASCII and file names and subjects are not). Mind the receiver's
 *     header size limit (often 8-16 KB): an email with hundreds of recipients makes a big envelope.
 *   - `Idempotency-Key`: envelope.id, the same on every attempt: the outbox delivers at least
 *     once, a receiver that keeps the keys it has seen gets each message exactly once.
 *   - with `secret`: `Postroom-Timestamp: <unix seconds>` and
 *     `Postroom-Signature: v2=<hex HMAC-SHA256(secret, "<timestamp>.<idempotency key>.<envelope
 *     header>.<body bytes>")>`: everything a receiver relies on (none of the three headers can
 *     hold a dot, so the string is unambiguous). A receiver recomputes it from the headers as
 *     received and the raw body, compares in constant time, and refuses timestamps too far from
 *     its clock (replay). Signing the body before sending it means reading the content twice
 *     (once to sign, once to send), which keeps memory flat for large attachments.
 *   - plain http:// only to loopback, unless `allowInsecureHttp: true`: emails (and the signed
 *     requests a man in the middle could replay) do not cross a network unencrypted by accident.
 *
 * The answer: 2xx delivered; 408, 429 and 5xx (and timeouts, refused or dropped connections)
 * are retried (DELIVERY_FAILED) honouring Retry-After in seconds or as an HTTP date; any other
 * status is a refusal for good (DELIVERY_REJECTED: dead letter at once). Redirects are not
 * followed: the body would have to be sent again to a place nobody configured.
 */
import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { pipeline } from 'node:stream/promises';
import type { Envelope } from '../model/envelope.ts';
import { PostroomError } from '../model/errors.ts';
import type { Destination, DestinationContext, OutgoingMessage } from '../model/destination.ts';
import type { WebhookOptions } from '../config/destinations/webhook-options.ts';
import { parseRetryAfter } from '../net/server-wait.ts';

export { DEFAULT_WEBHOOK_TIMEOUT, webhookOptions, type WebhookOptions } from '../config/destinations/webhook-options.ts';

/** Of an error response, this much is kept for the dead letter's reason; the rest is discarded. */
const ERROR_BODY_CHARS = 300;
/** What an HTTP header value may hold; an email can declare any bytes as its content type. */
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;
const FALLBACK_CONTENT_TYPE = 'application/octet-stream';

/** The `Postroom-Envelope` header value; receivers decode it with base64url then JSON.parse. */
export function encodeEnvelopeHeader(envelope: Envelope): string {
  return Buffer.from(JSON.stringify(envelope), 'utf8').toString('base64url');
}

/** The v2 signature: HMAC-SHA256 over "<timestamp>.<idempotency key>.<envelope header>.<body>". */
async function sign(secret: string, timestamp: string, idempotencyKey: string, envelopeHeader: string, message: OutgoingMessage): Promise<string> {
  const hmac = createHmac('sha256', secret).update(`${timestamp}.${idempotencyKey}.${envelopeHeader}.`);
  for await (const chunk of message.openContent()) hmac.update(chunk as Buffer);
  return `v2=${hmac.digest('hex')}`;
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
  return { status: response.statusCode ?? 0, retryAfter: header('retry-after'), location: header('location'), excerpt: excerpt.slice(0, ERROR_BODY_CHARS).replace(/\s+/g, ' ').trim() };
}

export function createWebhookDestination(name: string, options: WebhookOptions, _context: DestinationContext): Destination {
  const url = new URL(options.url);
  // The URL's path or query may hold a token: errors and logs name the origin only.
  const where = url.origin;
  const transport = url.protocol === 'https:' ? https : http;
  const agent = new transport.Agent({ keepAlive: true });

  const post = (message: OutgoingMessage, headers: http.OutgoingHttpHeaders): Promise<WebhookAnswer> =>
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
      pipeline(message.openContent(), request).catch(fail);
    });

  return {
    name,
    type: 'webhook',
    async deliver(message: OutgoingMessage): Promise<void> {
      const { envelope } = message;
      const headers: http.OutgoingHttpHeaders = {
        ...options.headers,
        'content-type': HEADER_VALUE.test(envelope.contentType) ? envelope.contentType : FALLBACK_CONTENT_TYPE,
        'content-length': envelope.size,
        'idempotency-key': envelope.id,
        'postroom-envelope': encodeEnvelopeHeader(envelope),
      };
      if (options.secret) {
        const timestamp = String(Math.floor(Date.now() / 1000));
        headers['postroom-timestamp'] = timestamp;
        headers['postroom-signature'] = await sign(options.secret, timestamp, envelope.id, headers['postroom-envelope'] as string, message);
      }
      let answer: WebhookAnswer;
      try {
        answer = await post(message, headers);
      } catch (error) {
        if (error instanceof PostroomError) throw error;
        throw new PostroomError('DELIVERY_FAILED', `POST to ${where} failed: ${(error as Error).message}`, { cause: error });
      }
      const { status } = answer;
      if (status >= 200 && status < 300) return;
      const said = `${where} answered ${status}${answer.excerpt ? `: ${answer.excerpt}` : ''}`;
      if (status === 408 || status === 429 || status >= 500) {
        const retryAfterMs = parseRetryAfter(answer.retryAfter, Date.now());
        throw new PostroomError('DELIVERY_FAILED', said, retryAfterMs === undefined ? {} : { retryAfterMs });
      }
      const hint = status >= 300 && status < 400 ? `redirects are not followed; set url to where it points${answer.location ? ` (${new URL(answer.location, url).origin})` : ''}` : 'fix the receiver, then replay with `postroom dead-letters replay`';
      throw new PostroomError('DELIVERY_REJECTED', said, { hint });
    },
    async close(): Promise<void> {
      agent.destroy();
    },
  };
}
