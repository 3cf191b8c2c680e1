/** Helpers for the control-plane tests: an API over a test workspace, a clock that can jump, a dead letter made the real way. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { ConnectionRegistry } from '../../src/api/connection-registry.ts';
import { PostroomMetrics } from '../../src/api/metrics.ts';
import { createApiServer } from '../../src/api/server.ts';
import type { Config, ConfigInput, ConnectionInput } from '../../src/config/schema.ts';
import { createDestination } from '../../src/destinations/registry.ts';
import { QUICK_ATTEMPTS } from '../../src/engine/delivery.ts';
import { Worker } from '../../src/engine/worker.ts';
import { type Clock, systemClock } from '../../src/model/clock.ts';
import type { OpenedStore } from '../../src/store/open-store.ts';
import type { WebhookReceiver } from '../delivery/webhook-receiver.ts';
import type { Dovecot, DovecotUser } from '../support/dovecot.ts';
import { imapConnection, openWorkspaceStore, quietLog, testConfig, type Workspace } from '../support/postroom.ts';

export const TOKEN = 'test-token-4f1c9a';
export const AUTH = { authorization: `Bearer ${TOKEN}` };
/** AUTH plus the header the web UI sends: a bodiless POST or DELETE needs it (or a JSON body). */
export const MUTATE = { ...AUTH, 'x-postroom-request': '1' };

export interface ApiHarness {
  app: FastifyInstance;
  config: Config;
  opened: OpenedStore;
  connections: ConnectionRegistry;
  metrics: PostroomMetrics;
  worker?: Worker;
  close(): Promise<void>;
}

/** An API server (not listening; use inject, or app.listen) over the workspace's store. */
export async function startApi(
  ws: Workspace,
  options: { connections?: ConnectionInput[]; extra?: Partial<ConfigInput>; worker?: boolean; clock?: Clock; log?: Logger } = {},
): Promise<ApiHarness> {
  const config = testConfig(ws, options.connections ?? [], { api: { token: TOKEN, allowPrivateHosts: true }, ...options.extra });
  const opened = await openWorkspaceStore(config);
  const clock = options.clock ?? systemClock;
  const connections = await ConnectionRegistry.open({ store: opened.store, config, log: quietLog, clock });
  const metrics = new PostroomMetrics({ processMetrics: false });
  const worker = options.worker
    ? new Worker({
        createDestination,
        config,
        opened,
        log: quietLog,
        clock,
        connections: () => connections.all(),
        onPoll: metrics.onPoll,
        onDelivery: metrics.onDelivery,
      })
    : undefined;
  let app: FastifyInstance;
  try {
    app = createApiServer({ config, opened, log: options.log ?? quietLog, connections, metrics, clock, ...(worker ? { worker } : {}) });
  } catch (error) {
    await opened.store.close();
    throw error;
  }
  worker?.start();
  return {
    app,
    config,
    opened,
    connections,
    metrics,
    ...(worker ? { worker } : {}),
    async close() {
      await app.close();
      await worker?.stop({ timeoutMs: 5_000 });
      await opened.store.close();
    },
  };
}

/** A clock that can jump ahead, so retries and backoffs pass without sleeping. */
export function jumpingClock(): Clock & { jump(ms: number): void } {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    sleep: systemClock.sleep,
    jump(ms) {
      offset += ms;
    },
  };
}

/**
 * Makes dead letters the way production does: the email is picked up from Dovecot, and its
 * pipeline messages fail at a directory destination that cannot be created (its parent is a
 * file) until they move to the dead letters. Then the path is made writable again, so a replay
 * by a new worker can deliver them. Returns the number of dead letters.
 */
export async function makeDeadLetters(
  ws: Workspace,
  dovecot: Dovecot,
  user: DovecotUser,
  raw: string,
  connection: Partial<ConnectionInput> = {},
): Promise<number> {
  const blocker = join(ws.dir, 'blocked');
  await writeFile(blocker, 'a file where a directory should be');
  const clock = jumpingClock();
  const config = testConfig(ws, [imapConnection(dovecot, user, connection)], { destinations: { out: { type: 'directory', path: join(blocker, 'out') } } });
  const opened = await openWorkspaceStore(config);
  const worker = new Worker({ createDestination, config, opened, log: quietLog, clock });
  await dovecot.deliver(user.name, raw);
  try {
    await worker.runOnce();
    // Past each quick backoff (1 s, 2 s, 4 s, 8 s) until nothing is pending: all are dead letters,
    // after exactly QUICK_ATTEMPTS attempts (their next scheduled attempt is a minute away).
    for (let round = 0; round < QUICK_ATTEMPTS * 2 && (await opened.store.outboxDepth()) > 0; round++) {
      clock.jump(10_000);
      await worker.delivery.drain();
    }
    return (await opened.store.listDeadLetters()).length;
  } finally {
    await worker.stop();
    await opened.store.close();
    const { rm } = await import('node:fs/promises');
    await rm(blocker, { force: true });
  }
}

/**
 * Dead letters the way a wrong webhook makes them: connections `shop` (to destination `orders`)
 * and `legacy` (to `archive`), both webhooks on `refusing` answering 400, so one poll of each
 * mailbox sends every part to the dead letters at once. Returns the connections and destinations
 * for the API that then shows them.
 */
export async function refusedByWebhooks(
  ws: Workspace,
  dovecot: Dovecot,
  refusing: WebhookReceiver,
  users: { shop: DovecotUser; legacy: DovecotUser },
  emails: { shop: string[]; legacy: string[] },
): Promise<{ connections: ConnectionInput[]; destinations: Record<string, { type: 'webhook'; url: string }> }> {
  refusing.otherwise({ status: 400, body: '{"error":"unknown field kind"}' });
  const destinations = {
    orders: { type: 'webhook' as const, url: `${refusing.url}/orders` },
    archive: { type: 'webhook' as const, url: `${refusing.url}/archive` },
  };
  const connections: ConnectionInput[] = [
    imapConnection(dovecot, users.shop, { name: 'shop', destination: 'orders' }),
    imapConnection(dovecot, users.legacy, { name: 'legacy', destination: 'archive' }),
  ];
  await dovecot.deliverMany(users.shop.name, emails.shop);
  await dovecot.deliverMany(users.legacy.name, emails.legacy);
  const config = testConfig(ws, connections, { destinations });
  const opened = await openWorkspaceStore(config);
  const worker = new Worker({ createDestination, config, opened, log: quietLog });
  try {
    await worker.runOnce();
  } finally {
    await worker.stop();
    await opened.store.close();
  }
  return { connections, destinations };
}

/** A small email with one attachment: two pipeline messages. */
export function sampleEmail(subject: string): string {
  return [
    'From: Orders <orders@example.com>',
    'To: intake@example.com',
    `Subject: ${subject}`,
    `Message-ID: <${subject.replace(/\W+/g, '-')}@example.com>`,
    'Date: Mon, 02 Mar 2026 10:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/plain; charset=utf-8',
    '',
    `Body of ${subject}.`,
    '--b1',
    'Content-Type: text/csv; name="order.csv"',
    'Content-Disposition: attachment; filename="order.csv"',
    '',
    'sku,qty',
    'A-1,3',
    '--b1--',
    '',
  ].join('\r\n');
}

/**
 * One HTTP/1.1 request written byte for byte on a plain socket, so nothing (fetch, undici, the
 * URL parser) normalises the request target on the way. Returns the status and the body.
 */
export async function rawRequest(port: number, head: string, body = ''): Promise<{ status: number; text: string }> {
  const { connect } = await import('node:net');
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
      resolve({ status, text: text.slice(text.indexOf('\r\n\r\n') + 4) });
    });
    const lines = head
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean);
    socket.end(`${lines.join('\r\n')}\r\nConnection: close\r\n${body ? `Content-Length: ${Buffer.byteLength(body)}\r\n` : ''}\r\n${body}`);
  });
}
