/**
 * A real HTTP server on loopback that plays a webhook receiver: it records every request (headers
 * and body) and answers from a script — a status with headers, or 'hang' (never answer).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
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

export async function startReceiver(): Promise<WebhookReceiver> {
  const queue: Reply[] = [];
  let fallback: Reply = { status: 200 };
  const held: http.ServerResponse[] = [];
  const requests: ReceivedRequest[] = [];
  const server = http.createServer((req, res) => {
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
 * What a receiver does (the README's recipe): recompute the v2 signature over
 * "<timestamp>.<idempotency key>.<envelope header>.<body>" and compare in constant time.
 */
export function signatureVerifies(request: ReceivedRequest, secret: string): boolean {
  const timestamp = request.headers['postroom-timestamp'];
  const signature = request.headers['postroom-signature'];
  const key = request.headers['idempotency-key'];
  const envelope = request.headers['postroom-envelope'];
  if (typeof timestamp !== 'string' || typeof signature !== 'string' || typeof key !== 'string' || typeof envelope !== 'string') return false;
  const expected = `v2=${createHmac('sha256', secret).update(`${timestamp}.${key}.${envelope}.`).update(request.body).digest('hex')}`;
  return expected.length === signature.length && timingSafeEqual(Buffer.from(expected), Buffer.from(signature));
}

export function envelopeOf(request: ReceivedRequest): Envelope {
  return JSON.parse(Buffer.from(String(request.headers['postroom-envelope']), 'base64url').toString('utf8')) as Envelope;
}
