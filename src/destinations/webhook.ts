/**
 * Webhook destination: one HTTP POST per pipeline message.
 *
 * The request (what a receiver can rely on):
 *   - body: the content, byte for byte, streamed from the content store (never whole in memory);
 *     `Content-Type` is envelope.contentType (application/octet-stream if that is not a valid
 *     header value) and `Content-Length` envelope.size.
 *   - `Postroom-Envelope`: the envelope as JSON, base64url-encoded (a header, not multipart, so
 *     the body stays the plain content a receiver can store or hash as it is; base64url because
 *     header values must be ASCII and file names and subjects are not).
 *   - `webhook-id` and `Idempotency-Key`: envelope.id, the same on every attempt: the outbox
 *     delivers at least once, a receiver that keeps the ids it has seen gets each message once.
 *   - Standard Webhooks (standardwebhooks.com): `webhook-timestamp: <unix seconds>` and, with
 *     `secret`, `webhook-signature: v1,<base64 HMAC-SHA256(key, "<webhook-id>.<timestamp>.<body>")>`,
 *     the key being the base64 after `whsec_`; one `v1,…` per configured secret, separated by
 *     spaces (rotation: a receiver holding the old or the new secret verifies it). Any Standard
 *     Webhooks verifier checks it and refuses timestamps more than five minutes off. The
 *     signature covers id, timestamp and body, not the other headers. Signing the body before
 *     sending it means reading the content twice (once to sign, once to send), which keeps
 *     memory flat for large attachments.
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
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Envelope } from '../engine/envelope.ts';
import { PostroomError } from '../errors.ts';
import type { Destination, DestinationContext, OutgoingMessage } from './destination.ts';
import { secretKey, webhookSecrets, type WebhookOptions } from './webhook-options.ts';

export { DEFAULT_WEBHOOK_TIMEOUT, webhookOptions, type WebhookOptions } from './webhook-options.ts';

/** Of an error response, this much is kept for the dead letter's reason; the rest is discarded. */
const ERROR_BODY_CHARS = 300;
/** What an HTTP header value may hold; an email can declare any bytes as its content type. */
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;
const FALLBACK_CONTENT_TYPE = 'application/octet-stream';

/** The `Postroom-Envelope` header value; receivers decode it with base64url then JSON.parse. */
export function encodeEnvelopeHeader(envelope: Envelope): string {
  return Buffer.from(JSON.stringify(envelope), 'utf8').toString('base64url');
}

/** Retry-After as milliseconds from `now`: delta seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * The Standard Webhooks `webhook-signature` value: `v1,<base64 HMAC-SHA256>` over
 * "<id>.<timestamp>.<body>" for each key, space-separated, the body read once for all of them.
 */
async function standardSignature(keys: Buffer[], id: string, timestamp: string, body: Readable): Promise<string> {
  const hmacs = keys.map((key) => createHmac('sha256', key).update(`${id}.${timestamp}.`));
  for await (const chunk of body) for (const hmac of hmacs) hmac.update(chunk as Buffer);
  return hmacs.map((hmac) => `v1,${hmac.digest('base64')}`).join(' ');
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
  const keys = webhookSecrets(options).map(secretKey);
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
      const timestamp = String(Math.floor(Date.now() / 1000));
      headers['webhook-id'] = envelope.id;
      headers['webhook-timestamp'] = timestamp;
      if (keys.length > 0) headers['webhook-signature'] = await standardSignature(keys, envelope.id, timestamp, message.openContent());
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
