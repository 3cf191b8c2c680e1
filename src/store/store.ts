/**
 * The Store: Postroom's durable state. One interface, two backends (embedded SQLite, shared
 * PostgreSQL) built on one query layer (Kysely), so both pass the same test suite.
 *
 * The guarantees the engine relies on:
 * - commitEmails writes a group of emails (each one's ledger row and outbox rows) and the
 *   cursor in ONE transaction, and only while the caller's lease token is still the current one
 *   (fencing): all of the group or none of it.
 * - acquireLease is a single atomic statement; each grant gets a higher token than the last.
 */
import type { ThrottleState } from '../model/account-pause.ts';
import type { Envelope } from '../model/envelope.ts';
import type { RequestCounter } from '../model/request-counter.ts';
import type { SourceCursor, SourceKey } from '../model/source-key.ts';

export const LEDGER_STATES = Object.freeze(['emitted', 'acknowledged'] as const);
export type LedgerState = (typeof LEDGER_STATES)[number];

export const OUTBOX_STATES = Object.freeze(['pending', 'delivered', 'dead'] as const);
export type OutboxState = (typeof OUTBOX_STATES)[number];

export interface Lease {
  connection: string;
  holder: string;
  /** Fencing token: strictly increasing per connection across every grant. */
  token: number;
  expiresAt: number;
}

export interface LedgerEntry {
  connection: string;
  sourceKey: string;
  key: SourceKey;
  fingerprint: string | null;
  messageId: string | null;
  rawSha256: string;
  rawRef: string | null;
  state: LedgerState;
  emittedAt: number;
  acknowledgedAt: number | null;
}

export interface NewOutboxMessage {
  envelope: Envelope;
  destination: string;
  contentRef: string;
}

export interface EmailCommit {
  connection: string;
  sourceKey: string;
  key: SourceKey;
  fingerprint: string | null;
  messageId: string | null;
  rawSha256: string;
  rawRef: string;
  messages: NewOutboxMessage[];
  /** Cursor to persist with this email, when the source gave one. */
  cursor?: SourceCursor;
  now: number;
}

export interface OutboxMessage {
  id: string;
  connection: string;
  destination: string;
  sourceKey: string;
  envelope: Envelope;
  contentRef: string;
  state: OutboxState;
  attempts: number;
  nextAttemptAt: number | null;
  lastError: string | null;
  createdAt: number;
  deliveredAt: number | null;
}

/** Which messages one delivery lane claims: one destination's, or those of no listed destination. */
export type DeliveryLane = { destination: string } | { exceptDestinations: readonly string[] };

export interface DeliveryFailure {
  id: string;
  error: string;
  /** When to try again; null means only a manual replay will. */
  nextAttemptAt: number | null;
  /** Move to the dead letters (catastrophic retry). */
  dead: boolean;
  now: number;
  /** False for a wait that is not a failure (throttling): the attempt count stays. */
  countAttempt?: boolean;
}


export interface PollRecord {
  connection: string;
  holder: string;
  startedAt: number;
  finishedAt: number;
  ok: boolean;
  emails: number;
  messages: number;
  error: string | null;
  /** The catalogue code of the failure (e.g. AUTH_REVOKED: the credentials need renewing). */
  errorCode?: string | null;
}

export interface ConnectionState {
  connection: string;
  nextDueAt: number | null;
  consecutiveFailures: number;
  lastPoll: PollRecord | null;
  emailsTotal: number;
  messagesTotal: number;
  /** New emails the source said it held at the last listing (null: never said), and when. */
  backlog: number | null;
  backlogAt: number | null;
}

/** A connection created through the REST API (config-file connections are never stored). */
export interface ManagedConnection {
  name: string;
  /** The connection as the API accepted it (input form); validated again when loaded. */
  config: Record<string, unknown>;
  enabled: boolean;
  createdAt: number;
  updatedAt: number;
}

/** One minute (or other bucket) of poll history, summed over every connection. */
export interface ActivityBucket {
  /** Start of the bucket, epoch ms. */
  at: number;
  polls: number;
  emails: number;
  messages: number;
}

/** Outbox rows per connection that are not delivered yet. */
export interface OutboxCounts {
  connection: string;
  pending: number;
  dead: number;
}

/** Backend differences as data: code branches on these flags, never on the backend's name. */
export interface StoreCapabilities {
  /** Outbox claims can skip rows locked by another worker. */
  skipLocked: boolean;
}

export type { ThrottleState };

export interface Store extends RequestCounter {
  readonly capabilities: StoreCapabilities;
  /** Creates or upgrades the schema; safe when several workers start at once. */
  migrate(): Promise<void>;
  /** Cheap round trip for health checks. */
  ping(): Promise<void>;
  close(): Promise<void>;

  // Leases (one worker at a time per connection; fenced by a token)
  acquireLease(connection: string, holder: string, ttlMs: number, now: number): Promise<Lease | null>;
  renewLease(lease: Lease, ttlMs: number, now: number): Promise<Lease | null>;
  releaseLease(lease: Lease): Promise<void>;
  listLeases(): Promise<Lease[]>;

  // Ledger and outbox (the pickup sequence)
  findLedger(connection: string, sourceKey: string): Promise<LedgerEntry | undefined>;
  /** The ledger rows of many emails at once, by source key (absent keys are not in the map). */
  findLedgerEntries(connection: string, sourceKeys: readonly string[]): Promise<Map<string, LedgerEntry>>;
  /** After a UIDVALIDITY change: an email seen before under another key, by Message-ID + raw hash. */
  findByContent(connection: string, messageId: string | null, rawSha256: string): Promise<LedgerEntry | undefined>;
  /**
   * Ledger + outbox + cursor in one transaction, fenced by the lease. Throws LEASE_LOST.
   * 'already-emitted' (nothing written) when the ledger already has this email with the same
   * fingerprint: another run committed it first.
   */
  commitEmail(lease: Lease, commit: EmailCommit): Promise<'committed' | 'already-emitted'>;
  /**
   * commitEmail for a group, in ONE transaction (one fsync for all of them): each email's
   * outcome in order, and the cursor of the last email that carries one.
   */
  commitEmails(lease: Lease, commits: readonly EmailCommit[]): Promise<Array<'committed' | 'already-emitted'>>;
  /** Records an email already emitted under another key (UIDVALIDITY re-map) so it is acknowledged, not re-sent. */
  recordAlias(lease: Lease, alias: { connection: string; sourceKey: string; key: SourceKey; of: LedgerEntry; cursor?: SourceCursor; now: number }): Promise<void>;
  /** Emails committed but not yet acknowledged on the server. */
  pendingAcknowledgements(connection: string): Promise<LedgerEntry[]>;
  markAcknowledged(lease: Lease, connection: string, sourceKeys: string[], now: number): Promise<void>;
  /** POP3: forget ledger rows the server no longer lists (acknowledged ones only). */
  pruneLedger(connection: string, keep: Set<string>, protocol: string): Promise<number>;
  getCursor(connection: string): Promise<SourceCursor | undefined>;

  // Delivery
  /** Claims due messages; `lane` narrows the claim to one destination, or to every destination but some. */
  claimDue(now: number, limit: number, holder: string, claimMs: number, lane?: DeliveryLane): Promise<OutboxMessage[]>;
  /** Marks messages delivered, in one transaction. */
  markDelivered(ids: readonly string[], now: number): Promise<void>;
  markFailed(failure: DeliveryFailure): Promise<void>;
  getOutboxMessage(id: string): Promise<OutboxMessage | undefined>;
  listDeadLetters(options?: { connection?: string; limit?: number }): Promise<OutboxMessage[]>;
  /** Makes dead letters due now; returns how many. */
  replayDeadLetters(ids: string[] | 'all', now: number): Promise<number>;
  /** Outbox rows in `states` (default: pending), for one connection or all. */
  outboxDepth(connection?: string, states?: readonly OutboxState[]): Promise<number>;
  /** Content refs no longer needed (raw emails fully delivered and acknowledged); clears them. */
  releasableContent(limit: number): Promise<string[]>;
  /** Of `refs`, those a ledger or outbox row (any state, dead letters included) still refers to. */
  referencedContent(refs: readonly string[]): Promise<Set<string>>;
  /** Deletes up to `limit` rows of messages delivered before `before`; returns how many. */
  forgetDelivered(before: number, limit: number): Promise<number>;

  // Throttling (shared by every worker)
  getThrottle(account: string): Promise<ThrottleState | undefined>;
  setThrottle(state: ThrottleState): Promise<void>;
  clearThrottle(account: string): Promise<void>;
  listThrottles(): Promise<ThrottleState[]>;

  // Request budgets (countRequests, requestBuckets: see RequestCounter) and progress
  /** The backlog a listing saw, for status. */
  recordBacklog(connection: string, backlog: number, now: number): Promise<void>;
  /** Emails emitted (committed) since `since`, per connection. */
  emailsSince(since: number): Promise<Map<string, number>>;

  // Scheduling and status
  recordPoll(poll: PollRecord, nextDueAt: number): Promise<void>;
  getConnectionState(connection: string): Promise<ConnectionState | undefined>;
  listConnectionStates(): Promise<ConnectionState[]>;
  setNextDue(connection: string, nextDueAt: number): Promise<void>;
  /** Poll history since `since`, summed per bucket of `bucketMs` (the status board's plot). */
  pollActivity(since: number, bucketMs: number): Promise<ActivityBucket[]>;
  /** Pending and dead outbox rows per connection, in one query (the status board, /metrics). */
  outboxCounts(): Promise<OutboxCounts[]>;

  // Connections managed through the API
  listManagedConnections(): Promise<ManagedConnection[]>;
  getManagedConnection(name: string): Promise<ManagedConnection | undefined>;
  /** Returns false when a stored connection already has that name. */
  insertManagedConnection(connection: ManagedConnection): Promise<boolean>;
  /** Returns false when no stored connection has that name. */
  updateManagedConnection(name: string, change: { config?: Record<string, unknown>; enabled?: boolean }, now: number): Promise<boolean>;
  /** Returns false when no stored connection has that name. */
  deleteManagedConnection(name: string): Promise<boolean>;
}
