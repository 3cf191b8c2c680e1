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

/** `filtered`: seen and not taken by the connection's filter; never emitted. */
export const LEDGER_STATES = Object.freeze(['emitted', 'acknowledged', 'filtered'] as const);
export type LedgerState = (typeof LEDGER_STATES)[number];

/** `discarded`: a dead letter an operator gave up on; kept (and then forgotten) like a delivered one. */
export const OUTBOX_STATES = Object.freeze(['pending', 'delivered', 'dead', 'discarded'] as const);
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
  /** State `filtered`: the condition that left it out, and why. */
  filtered?: { condition: string; reason: string };
}

export interface NewOutboxMessage {
  envelope: Envelope;
  destination: string;
  contentRef: string;
  /** W3C traceparent of the email's span, when traced: its deliveries continue that trace. */
  traceParent?: string;
}

/** What the trail keeps of an email beside its ledger row, for as long as the ledger row. */
export interface EmailSummary {
  /** The sender as the email gives it (From). */
  from: string | null;
  subject: string | null;
  /** The email's Date header (epoch ms), when it has a valid one. */
  sentAt: number | null;
  /** Bytes, as the server gave it or as read. */
  size: number | null;
}

export interface EmailCommit {
  /** Sender, subject, date and size, for the email trail. */
  summary?: EmailSummary;
  connection: string;
  sourceKey: string;
  key: SourceKey;
  fingerprint: string | null;
  messageId: string | null;
  rawSha256: string;
  rawRef: string;
  messages: NewOutboxMessage[];
  /** Not taken by the filter: recorded as `filtered` with no outbox rows. */
  filtered?: { condition: string; reason: string };
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
  /** When it was delivered (state `discarded`: when it was discarded); forgotten `outbox.keepDelivered` later. */
  deliveredAt: number | null;
  /** W3C traceparent of the email's span (null when the commit was not traced). */
  traceParent: string | null;
  /** Delivered, with its content kept until then (`outbox.keepDeliveredContent`) so it can be replayed; null when the content is gone. */
  contentUntil: number | null;
}

/** Which dead letters a listing or count takes: one connection's, one destination's, one email's (connection + source key). */
export interface DeadLetterFilter {
  connection?: string;
  destination?: string;
  /** With `connection`: one email's. */
  sourceKey?: string;
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
  /**
   * A throttled wait: recorded as ok, but the mailbox was not read (not a successful poll for
   * alerts). Stored as error code THROTTLED (older rows: an error starting "throttled: ").
   */
  throttled?: boolean;
  /** A poll now caused this poll (the next poll of the connection after the request): who asked. Set by the store. */
  askedBy?: string | null;
}

/** What an operator did to a connection: pause, resume, or poll now. */
export const CONTROL_ACTIONS = Object.freeze(['pause', 'resume', 'poll'] as const);
export type ControlAction = (typeof CONTROL_ACTIONS)[number];

export interface ConnectionControl {
  connection: string;
  action: ControlAction;
  /** Who, e.g. "API from 127.0.0.1", "CLI (alice)". */
  by: string;
  at: number;
}

export interface RecordedControl extends ConnectionControl {
  /** poll: when the poll it caused started (null: not polled yet, or that poll is no longer kept). */
  polledAt: number | null;
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
  /** What the running service decided `enabled` is (null: no service has said yet). */
  enabled: boolean | null;
  /** A poll is running now: since when, on which worker (null: none). */
  pollingSince: number | null;
  pollingHolder: string | null;
  /** The last poll that read the mailbox (not a throttled wait). */
  lastOkPollAt: number | null;
  /** Paused by an operator: who (e.g. "api", "cli:alice") and when; null when not paused. */
  pausedBy: string | null;
  pausedAt: number | null;
}

/** Undelivered pipeline messages of one connection to one destination: the delivery state. */
export interface DeliveryHealth {
  connection: string;
  destination: string;
  /** Pending messages that failed at least once and wait for a quick retry. */
  retrying: number;
  dead: number;
  /** The error of the most recent failed attempt among them. */
  lastError: string | null;
  lastErrorAt: number | null;
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
  /** When the oldest undelivered (pending or dead) message was written to the outbox. */
  oldestAt: number | null;
}

/** Where an email is: every pipeline message delivered, some waiting for a retry or pending, a dead letter among them, or left out by the filter. */
export const TRAIL_STATES = Object.freeze(['delivered', 'pending', 'retrying', 'dead', 'filtered'] as const);
export type TrailState = (typeof TRAIL_STATES)[number];

export interface TrailQuery {
  /** Words that must each appear in the sender, the subject or the Message-ID (case-insensitive). */
  text?: string;
  /** Exact, with or without the angle brackets. */
  messageId?: string;
  /** Part of the sender, e.g. "supplier.example". */
  from?: string;
  /** Words that must each appear in the subject. */
  subject?: string;
  /** Picked up at or after / before (epoch ms). */
  since?: number;
  until?: number;
  connection?: string;
  state?: TrailState;
  /** At most this many (default 50, at most 500 a page). */
  limit?: number;
  /** The next page: the emails after this one in the order found (newest first). */
  after?: TrailPosition;
}

/** Where an email is in a search's order (picked up newest first, then connection and source key): a page's last, to go on from. */
export interface TrailPosition {
  pickedUpAt: number;
  connection: string;
  sourceKey: string;
}

export interface TrailPage {
  /** Newest first. */
  emails: TrailEmail[];
  /** More emails match after the last of these (ask again with `after` set to it). */
  more: boolean;
}

export interface TrailEmail {
  connection: string;
  sourceKey: string;
  key: SourceKey;
  messageId: string | null;
  from: string | null;
  subject: string | null;
  sentAt: number | null;
  size: number | null;
  /** When Postroom committed it (picked it up). */
  pickedUpAt: number;
  acknowledgedAt: number | null;
  /** What the server was asked to do with it, once acknowledged. */
  acknowledgement: string | null;
  state: TrailState;
  /** Left out by the filter: the condition, and why. */
  filtered?: { condition: string; reason: string };
  /** Pipeline messages still in the outbox (delivered ones are forgotten after outbox.keepDelivered). */
  messages: number;
}

/** One delivery attempt of one pipeline message, or a replay asked for by hand. */
export interface DeliveryAttempt {
  outboxId: string;
  destination: string;
  at: number;
  outcome: 'delivered' | 'failed' | 'dead' | 'replayed' | 'discarded';
  /** The error, what the destination answered, or who asked for the replay or the discard. */
  detail: string | null;
}

export interface EmailTrail {
  email: TrailEmail;
  messages: OutboxMessage[];
  attempts: DeliveryAttempt[];
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
  /**
   * The database server's clock (epoch ms), where workers on several machines share the store
   * (PostgreSQL); absent where they share one machine's clock (SQLite). Workers align their
   * lease, claim and schedule times to it (engine/aligned-clock.ts).
   */
  databaseTime?(): Promise<number>;
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
  recordAlias(
    lease: Lease,
    alias: { connection: string; sourceKey: string; key: SourceKey; of: LedgerEntry; cursor?: SourceCursor; now: number },
  ): Promise<void>;
  /** Emails committed but not yet acknowledged on the server. */
  pendingAcknowledgements(connection: string): Promise<LedgerEntry[]>;
  /** `how`: what the server was asked to do with them, for the trail (e.g. "marked read", "moved to Processed"). */
  markAcknowledged(lease: Lease, connection: string, sourceKeys: string[], now: number, how?: string): Promise<void>;
  /** POP3: forget ledger rows the server no longer lists (acknowledged and filtered ones only). */
  pruneLedger(connection: string, keep: Set<string>, protocol: string): Promise<number>;
  /**
   * `rescan`: forgets the emails a filter left out, and puts the rescan cursor in place of the
   * source cursor that passed them, so the next poll judges again those still on the server
   * (without the server's search pre-selecting); returns how many were forgotten.
   */
  forgetFiltered(connection: string, now: number): Promise<number>;
  /** Emails a filter left out, per connection and condition. */
  filteredCounts(): Promise<Array<{ connection: string; condition: string; emails: number }>>;
  getCursor(connection: string): Promise<SourceCursor | undefined>;

  // Delivery
  /** Claims due messages; `lane` narrows the claim to one destination, or to every destination but some. */
  claimDue(now: number, limit: number, holder: string, claimMs: number, lane?: DeliveryLane): Promise<OutboxMessage[]>;
  /** Marks messages delivered, in one transaction, each with its attempt in the trail (`replies`: what the destination answered, by id). */
  markDelivered(ids: readonly string[], now: number, replies?: ReadonlyMap<string, string>, contentUntil?: number | null): Promise<void>;
  /**
   * Makes delivered messages whose content is still kept pending again, due now, for a replay by
   * hand (same id, attempts from zero); returns the ids reopened. One whose content is gone stays delivered.
   */
  reopenDelivered(ids: readonly string[], now: number): Promise<string[]>;
  /** Delivered messages whose kept content's time is up: clears their content_until and returns their content refs, to remove. */
  expireDeliveredContent(now: number, limit: number): Promise<string[]>;
  /** Records the failed attempt in the trail too. */
  markFailed(failure: DeliveryFailure): Promise<void>;
  /** Records in the trail that these pipeline messages were replayed by hand, and by whom ("the API", "the CLI"). */
  recordReplay(ids: readonly string[], now: number, by: string): Promise<void>;
  /** Claims these messages (pending or dead, not claimed by anyone else) whatever their next attempt. */
  claimIds(ids: readonly string[], now: number, holder: string, claimMs: number): Promise<OutboxMessage[]>;
  getOutboxMessage(id: string): Promise<OutboxMessage | undefined>;
  /**
   * Dead letters oldest first, those of one email side by side (by connection and source key),
   * narrowed by `filter`; `offset` skips that many (paging).
   */
  listDeadLetters(options?: DeadLetterFilter & { limit?: number; offset?: number }): Promise<OutboxMessage[]>;
  /** How many dead letters `filter` matches. */
  countDeadLetters(filter?: DeadLetterFilter): Promise<number>;
  /**
   * Gives up on these dead letters for good (by whom: "the API", "the CLI"): each becomes
   * `discarded` (kept for `outbox.keepDelivered` like a delivered one, then forgotten) with a
   * `discarded` attempt in the trail. One claimed by a worker right now (a replay) stays dead.
   * Returns the messages discarded, so the caller lets their content go.
   */
  discardDeadLetters(ids: readonly string[], now: number, by: string): Promise<OutboxMessage[]>;
  /** Makes dead letters due now; returns how many. */
  replayDeadLetters(ids: string[] | 'all', now: number): Promise<number>;
  /** Outbox rows in `states` (default: pending), for one connection or all. */
  outboxDepth(connection?: string, states?: readonly OutboxState[]): Promise<number>;
  /** Content refs no longer needed (raw emails acknowledged, everything made from them delivered or discarded); clears them. */
  releasableContent(limit: number): Promise<string[]>;
  /**
   * Of `refs` (content files), those a ledger or outbox row (any state, dead letters included)
   * still refers to, itself or a piece of it (`<ref>@<offset>+<length>`: a segment file).
   */
  referencedContent(refs: readonly string[]): Promise<Set<string>>;
  /** Deletes up to `limit` rows of messages delivered (or discarded) before `before` (and their attempts); returns how many. */
  forgetDelivered(before: number, limit: number): Promise<number>;

  // The email trail (where did my email go?)
  /** Emails seen, newest first, that match every condition given: a page of them, and whether more follow. */
  searchEmails(query: TrailQuery): Promise<TrailPage>;
  /** One email's whole trail: its ledger row, its pipeline messages still kept, every delivery attempt. */
  emailTrail(connection: string, sourceKey: string): Promise<EmailTrail | undefined>;

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
  /** Poll history since `since`, summed per bucket of `bucketMs` (the status board's plot), for every connection or one. */
  pollActivity(since: number, bucketMs: number, connection?: string): Promise<ActivityBucket[]>;
  /** One connection's latest polls (at most `limit`, of the day kept), newest first; throttled waits marked `throttled`. */
  recentPolls(connection: string, limit: number): Promise<PollRecord[]>;
  /** Pending and dead outbox rows per connection, in one query (the status board, /metrics). */
  outboxCounts(): Promise<OutboxCounts[]>;
  /** Per connection and destination with failed messages: how many retry, how many are dead, the last error. */
  deliveryHealth(): Promise<DeliveryHealth[]>;
  /** A poll started on `holder` (since: when) or ended (since null: cleared only if `holder` set it). */
  markPolling(connection: string, holder: string, since: number | null): Promise<void>;
  /** The running service's reading of each connection's `enabled`. */
  recordEnabled(connections: ReadonlyArray<{ name: string; enabled: boolean }>): Promise<void>;
  /** Pauses (by whom) or resumes (null) a connection for every worker. */
  setPaused(connection: string, pause: { by: string; at: number } | null): Promise<void>;
  /**
   * An operator's control, recorded and acted on in one transaction: pause sets the pause (by,
   * at); resume clears it and makes the connection due at `at`; poll makes it due at `at`, and
   * the next poll of the connection that starts at or after `at` is marked as asked by `by`.
   * Kept as long as the polls (a day).
   */
  recordControl(control: ConnectionControl): Promise<void>;
  /** One connection's controls of the day kept, newest first, at most `limit`. */
  recentControls(connection: string, limit: number): Promise<RecordedControl[]>;

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
