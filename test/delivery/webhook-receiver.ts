/**
 * A real HTTP server on loopback that plays a webhook receiver: it records every request (headers
 * and body) and answers from a script — a status with headers, or 'hang' (never answer).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Envelope } from '../../src/model/envelope.ts';

export type Reply = { status: number; headers?: Record<string, string>; body?: string } | 'hang';

export interface ReceivedRequest {
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  reply: Reply;
}

export interface WebhookReceiver {
  url: string;
  requests: ReceivedRequest[];
  /** Requests held open without an answer. */
  hanging(): number;
  /** Answers queued in order; when empty, `otherwise` answers. */
  script(...replies: Reply[]): void;
  otherwise(reply: Reply): void;
  /** Answers every hanging request with this status. */
  release(status: number): void;
  close(): Promise<void>;
}

/** `maxHeaderSize`: the most header bytes the server accepts (Node's default is 16 KB); more gets 431. */
export async function startReceiver(options: { maxHeaderSize?: number } = {}): Promise<WebhookReceiver> {
  const queue: Reply[] = [];
  let fallback: Reply = { status: 200 };
  const held: http.ServerResponse[] = [];
  const requests: ReceivedRequest[] = [];
  const server = http.createServer({ ...(options.maxHeaderSize ? { maxHeaderSize: options.maxHeaderSize } : {}) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const reply = queue.shift() ?? fallback;
      requests.push({ headers: req.headers, body: Buffer.concat(chunks), reply });
      if (reply === 'hang') {
        held.push(res);
        return;
      }
      res.writeHead(reply.status, reply.headers ?? {});
      res.end(reply.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/postroom?token=url-secret`,
    requests,
    hanging: () => held.filter((res) => !res.writableEnded && !res.destroyed).length,
    script: (...replies) => queue.push(...replies),
    otherwise: (reply) => {
      fallback = reply;
    },
    release(status) {
      for (const res of held.splice(0)) if (!res.destroyed) res.writeHead(status).end();
    },
    async close() {
      for (const res of held.splice(0)) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The README's recipe (for any body, binary included): Standard Webhooks' v1 signature,
 * HMAC-SHA256 keyed with the base64 after `whsec_`, over "<webhook-id>.<webhook-timestamp>.<raw
 * body>", one of the space-separated `v1,<base64>` values, compared in constant time.
 */
export function signatureVerifies(request: ReceivedRequest, secret: string): boolean {
  const id = request.headers['webhook-id'];
  const timestamp = request.headers['webhook-timestamp'];
  const signatures = request.headers['webhook-signature'];
  if (typeof id !== 'string' || typeof timestamp !== 'string' || typeof signatures !== 'string') return false;
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(request.body).digest();
  return signatures.split(' ').some((candidate) => {
    const [version, value = ''] = candidate.split(',');
    const given = Buffer.from(value, 'base64');
    return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
  });
}

/** A Standard Webhooks secret as `openssl rand -base64 32` makes one. */
export function makeSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

export function envelopeOf(request: ReceivedRequest): Envelope {
  return JSON.parse(Buffer.from(String(request.headers['postroom-envelope']), 'base64url').toString('utf8')) as Envelope;
}
