/**
 * What the delivery tests share: a real store with pipeline messages committed to its outbox
 * (as the pickup would), a clock the test moves, destinations built through the registry from
 * config-shaped options, and a delivery loop over them.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { parseDuration } from '../../src/config/duration.ts';
import { DEFAULT_KEEP_DELIVERED, destinationSchema } from '../../src/config/schema.ts';
import { createDestination } from '../../src/destinations/registry.ts';
import { type DeliveryDeps, DeliveryLoop } from '../../src/engine/delivery.ts';
import type { Clock } from '../../src/model/clock.ts';
import type { Destination } from '../../src/model/destination.ts';
import { type Envelope, type EnvelopeEmail, pipelineMessageId } from '../../src/model/envelope.ts';
import { type SourceKey, sourceKeyString } from '../../src/sources/source.ts';
import { quietLog } from '../support/postroom.ts';
import { sqliteTestStore, type TestStore } from '../support/stores.ts';

/** The default catastrophic retry schedule in ms (1 m, 5 m, 30 m, 2 h, 12 h). */
export const DEAD_LETTER_SCHEDULE = [60_000, 300_000, 1_800_000, 7_200_000, 43_200_000];

export interface ManualClock extends Clock {
  advance(ms: number): void;
}

export function manualClock(start = Date.now()): ManualClock {
  let now = start;
  return {
    now: () => now,
    sleep: async (ms) => {
      now += ms;
    },
    advance(ms) {
      now += ms;
    },
  };
}

/** A unique name for broker queues, streams and subjects, so test runs never meet. */
export function uniqueName(prefix: string): string {
  return `${prefix}${randomBytes(5).toString('hex')}`;
}

/** Builds a destination the way the worker does: options validated by the registry's schema. */
export function makeDestination(name: string, options: Record<string, unknown>): Destination {
  const parsed = destinationSchema.parse(options);
  return createDestination(name, parsed, { log: quietLog });
}

export interface Outbox {
  opened: TestStore;
  clock: ManualClock;
  /** Commits one email whose parts go to `destination`; returns their envelopes. */
  enqueue(
    destination: string,
    parts: Array<{ content: Buffer; contentType?: string; filename?: string }>,
    connection?: string,
    email?: EnvelopeEmail,
  ): Promise<Envelope[]>;
  loop(
    destinations: Record<string, Destination>,
    options?: Partial<Pick<DeliveryDeps, 'keepDeliveredMs' | 'keepDeliveredContentMs' | 'log' | 'onOutcome'>>,
  ): DeliveryLoop;
  dispose(): Promise<void>;
}

let nextUid = 1;

export async function outbox(clock: ManualClock = manualClock()): Promise<Outbox> {
  const opened = await sqliteTestStore();
  const { store, content } = opened;
  const loops: DeliveryLoop[] = [];
  return {
    opened,
    clock,
    async enqueue(destination, parts, connection = 'inbox', email) {
      const uid = nextUid++;
      const key: SourceKey = { protocol: 'imap', folder: 'INBOX', uidValidity: '1', uid };
      const sourceKey = sourceKeyString(key);
      // The raw copy kept as intake keeps an email that arrived whole: a piece of a segment file.
      const raw = await content.writeBytes!(Buffer.concat(parts.map((p) => p.content)), { packed: true });
      const messages = [];
      for (const [index, part] of parts.entries()) {
        const written = await content.write(Readable.from([part.content]));
        const envelope: Envelope = {
          id: pipelineMessageId(connection, sourceKey, index),
          connection,
          kind: index === 0 ? 'body' : 'attachment',
          filename: part.filename ?? (index === 0 ? 'body.txt' : `part-${index}.bin`),
          contentType: part.contentType ?? (index === 0 ? 'text/plain; charset=utf-8' : 'application/octet-stream'),
          size: written.size,
          sha256: written.sha256,
          partIndex: index,
          source: key,
          email: email ?? {
            messageId: `<${uid}@postroom.test>`,
            from: 'sender@postroom.test',
            to: ['receiver@postroom.test'],
            cc: [],
            subject: `email ${uid} – Grüße`,
            date: null,
          },
          receivedAt: new Date(clock.now()).toISOString(),
        };
        messages.push({ envelope, destination, contentRef: written.ref });
      }
      const lease = await store.acquireLease(connection, 'test', 60_000, clock.now());
      if (!lease) throw new Error('could not take the test lease');
      await store.commitEmail(lease, {
        connection,
        sourceKey,
        key,
        fingerprint: null,
        messageId: `<${uid}@postroom.test>`,
        rawSha256: raw.sha256,
        rawRef: raw.ref,
        messages,
        now: clock.now(),
      });
      await store.releaseLease(lease);
      return messages.map((m) => m.envelope);
    },
    loop(destinations, options = {}) {
      const loop = new DeliveryLoop({
        store,
        contents: content,
        destinations: new Map(Object.entries(destinations)),
        clock,
        log: quietLog,
        holder: 'test-worker',
        deadLetterSchedule: DEAD_LETTER_SCHEDULE,
        keepDeliveredMs: parseDuration(DEFAULT_KEEP_DELIVERED),
        ...options,
      });
      loops.push(loop);
      return loop;
    },
    async dispose() {
      await Promise.all(loops.map((loop) => loop.stop()));
      await opened.dispose();
    },
  };
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Deterministic bytes of every value, so byte-exactness means something. */
export function binary(size: number, seed: string): Buffer {
  const out = Buffer.alloc(size);
  let block = createHash('sha256').update(seed).digest();
  for (let offset = 0; offset < size; offset += block.length) {
    block.copy(out, offset);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}
