/**
 * For destinations whose client sends each message whole (RabbitMQ, NATS, Redis): content read into one buffer,
 * capped, and a budget that bounds how much content concurrent deliveries hold at once.
 */

import type { OutgoingMessage } from '../model/destination.ts';
import { PostroomError } from '../model/errors.ts';

/** Concurrent deliveries together hold at most `maxBytes` of content (one message of that size, or many small ones). */
export function memoryBudget(maxBytes: number): { take(bytes: number): Promise<void>; give(bytes: number): void } {
  let held = 0;
  const waiting: Array<() => void> = [];
  return {
    async take(bytes) {
      while (held > 0 && held + bytes > maxBytes) await new Promise<void>((resolve) => waiting.push(resolve));
      held += bytes;
    },
    give(bytes) {
      held -= bytes;
      for (const wake of waiting.splice(0)) wake();
    },
  };
}

/** The content as one buffer; more than `max` bytes (the envelope's size was wrong) is refused for good. */
export async function readWhole(message: OutgoingMessage, max: number, limitName: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of message.openContent()) {
    total += (chunk as Buffer).length;
    if (total > max) throw new PostroomError('DELIVERY_REJECTED', `${message.envelope.id} is larger than ${limitName} (${max})`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, total);
}
