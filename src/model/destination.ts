/**
 * The Destination interface: where pipeline messages go. One file per destination type,
 * registered in registry.ts. A destination must be idempotent on `envelope.id`
 * (file name, Idempotency-Key, Nats-Msg-Id, AMQP messageId): the outbox delivers at least once.
 *
 * Throw PostroomError('DELIVERY_FAILED', ..., { retryAfterMs }) for a failure worth retrying and
 * PostroomError('DELIVERY_REJECTED') for one that will never succeed as it is (it goes to the
 * dead letters at once).
 */
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { AccountPause } from './account-pause.ts';
import type { Envelope } from './envelope.ts';
import type { RequestCounter } from './request-counter.ts';

export interface OutgoingMessage {
  envelope: Envelope;
  /** Opens the content afresh; may be called more than once (retries). */
  openContent(): Readable;
  /**
   * The content's own file, when content lives in local files (already durable): a destination
   * on the same file system may hard-link it rather than copy it. Never to be modified in place.
   */
  contentFile?: string;
}

/** What a destination answered, in a few words: "HTTP 202", "JetStream postroom seq 42", a file path. */
export interface DeliveryReceipt {
  reply: string;
}

export interface Destination {
  readonly name: string;
  readonly type: string;
  /** Resolves once the destination has the message; with a receipt when it said something worth keeping in the email trail. */
  deliver(message: OutgoingMessage): Promise<DeliveryReceipt | undefined>;
  /**
   * For a destination that leaves part of its durability to the end of a round (the directory
   * fsyncs itself once rather than per message): called after a round's deliveries and before
   * the outbox records them delivered. A failure fails every message of that round.
   */
  flush?(): Promise<void>;
  close(): Promise<void>;
}

export interface DestinationContext {
  log: Logger;
  /** The directory of the store, for destinations that keep local state. */
  dataDir?: string;
  /** The shared account pause, for destinations that send through a mailbox account (email). */
  accountPause?: AccountPause;
  /** Where requests to a provider with a request budget (Graph) are counted, shared by every worker. */
  requests?: RequestCounter;
}

/**
 * Builds the destination a config names from options its type's schema has parsed. The engine is
 * handed one (destinations/registry.ts) and so never loads a destination driver itself.
 */
export type CreateDestination = (name: string, options: { type: string } & Record<string, unknown>, context: DestinationContext) => Destination;
