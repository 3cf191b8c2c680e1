/**
 * The Source interface: one implementation per protocol (imap/, pop3/, graph/).
 * The engine drives every source the same way:
 *
 *   const session = await source.open(connection, context);
 *   const listing = await session.list(cursor);           // what is new, cheap metadata only
 *   for await (const fetched of session.fetch(listing.emails)) { ...consume fetched.content... }
 *   await session.acknowledge(keys);                      // seen / move / delete (may be deferred)
 *   await session.close();                                // commits deferred acknowledgements (POP3 QUIT)
 *
 * An acknowledgement is only durable once close() has resolved: POP3 deletes take effect
 * at QUIT, and IMAP sources may batch flag updates until then.
 */
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { ConnectionConfig } from '../config/schema.ts';
import type { AttachmentFact, EmailFacts } from '../filter/email-facts.ts';
import type { FilterCondition } from '../filter/judge-email.ts';
import type { CheckStep } from '../model/check-step.ts';
import type { RequestCounter } from '../model/request-counter.ts';
import type { Protocol, SourceCursor, SourceKey } from '../model/source-key.ts';

export type { CheckStep } from '../model/check-step.ts';
export { type Protocol, type SourceCursor, type SourceKey, sourceKeyString } from '../model/source-key.ts';

/** What a listing knows about an email before its content is fetched. */
export interface ListedEmail {
  key: SourceKey;
  /** Size in bytes as the server reports it, when known. */
  size?: number;
  /**
   * A cheap fingerprint that tells a reused key from a redelivered email (POP3: hash of
   * the headers from TOP n 0). When present, the ledger only counts an email as already
   * emitted when the fingerprint matches too.
   */
  fingerprint?: string;
  /** Cursor to persist once this email and every one before it is committed. */
  cursorAfter?: SourceCursor | undefined;
  /**
   * What the listing read before the body, when the connection has a filter: the raw header
   * section (IMAP BODY.PEEK[HEADER], POP3 TOP n 0) and the attachments BODYSTRUCTURE names, or
   * the facts themselves when the server hands fields rather than headers (Graph `$select`).
   */
  head?: { headers: Buffer; attachments?: AttachmentFact[] } | { facts: EmailFacts };
  /**
   * The server's search already left it out (IMAP SEARCH pre-selection, `filterOnServer`): the
   * condition whose key did not find it, and why. Nothing else was read of it, not even its
   * headers; it is recorded as filtered as an email the headers leave out is.
   */
  leftByServer?: { condition: FilterCondition; reason: string };
}

/**
 * What to do on the server with an email the filter did not take (`filtered`): nothing, mark
 * it read, move it, delete it. Acknowledging without one does what the connection says for
 * emails it took.
 */
export type Treatment = { kind: 'markRead' } | { kind: 'moveTo'; folder: string } | { kind: 'delete' };

export interface Listing {
  emails: ListedEmail[];
  /**
   * True when the server's identity space changed since the stored cursor
   * (IMAP UIDVALIDITY). The engine then re-maps by Message-ID + raw hash and delivers
   * only the emails it has not seen before.
   */
  remap: boolean;
  /** Every key the server still lists (POP3), so the ledger can be pruned. */
  presentKeys?: SourceKey[];
  /**
   * The server holds more new emails than this listing: once these are committed and
   * acknowledged, list again (Graph takes a folder a page at a time, so progress is kept as it
   * is made).
   */
  more?: boolean;
  /** How many new emails the server said it holds in all, when it said (the status board's backlog). */
  backlog?: number;
}

export interface FetchedEmail {
  email: ListedEmail;
  /** The raw RFC 822 bytes. Must be consumed (or destroyed) before the next email is taken. */
  content: Readable;
  /**
   * The same bytes, when the source already holds the whole email in memory (small IMAP emails
   * arrive in one batched FETCH): the engine then keeps and parses them from here, without
   * reading them back from the content store. `content` is not read then.
   */
  bytes?: Buffer;
}

/** A failure to fetch one email, reported in-line so one bad email never blocks the rest. */
export interface FetchFailure {
  email: ListedEmail;
  error: Error;
  /**
   * The server no longer has the email (another client expunged it after the listing): nothing to
   * deliver and nothing to try again, so the engine goes on past it without reporting a failure.
   */
  gone?: boolean;
}

export type FetchResult = FetchedEmail | FetchFailure;

export function isFetchFailure(result: FetchResult): result is FetchFailure {
  return 'error' in result;
}

export interface SourceSession {
  list(cursor: SourceCursor | undefined): Promise<Listing>;
  fetch(emails: ListedEmail[]): AsyncIterable<FetchResult>;
  /** Marks read / moves / deletes, as the connection says, or as `treatment` says for emails not taken. */
  acknowledge(keys: SourceKey[], treatment?: Treatment): Promise<void>;
  /**
   * Lists on past the emails just listed (Graph: the next page), for when every one of them was
   * left alone before and stays where it is; undefined when there is nothing further.
   */
  listFurther?(): Promise<Listing | undefined>;
  /**
   * The same emails with what a listing reads before the body (head, size), for emails listed
   * without it because the server's search left them out: `preview` shows them, a poll never reads them.
   */
  headsOf?(emails: ListedEmail[]): Promise<ListedEmail[]>;
  /** Ends the session. Resolving means every acknowledgement made is durable on the server. */
  close(): Promise<void>;
  /**
   * The acknowledgements the server has already confirmed, in the order confirmed, from the
   * `from`th on: the engine records them as a long poll goes, and for a session that ends
   * without close() (throttled, failed), so they are not sent again.
   */
  acknowledgedSoFar?(from?: number): SourceKey[];
  /** Drops the connection without committing anything (used on lease loss and shutdown). */
  abort(): void;
}

export interface SourceContext {
  log: Logger;
  signal?: AbortSignal;
  /** Where a source with a request budget (Graph) counts its requests; without it, per process only. */
  requests?: RequestCounter;
}

/** Why a watcher asks for a poll: mail was announced, or it (re)connected and mail may have come meanwhile. */
export type WakeReason = 'new-mail' | 'connected';

/** Pushes "new mail" (IMAP IDLE) so the engine polls at once; the poll stays the only reader. */
export interface SourceWatcher {
  start(): void;
  /** Closes the watching connection; resolves once it is gone. */
  stop(): Promise<void>;
}

export interface WatchContext {
  log: Logger;
  onMail: (reason: WakeReason) => void;
}

export interface Source {
  readonly protocol: Protocol;
  open(connection: ConnectionConfig, context: SourceContext): Promise<SourceSession>;
  /** Tests the connection step by step; never throws for a server-side problem. */
  check(connection: ConnectionConfig, context: SourceContext): Promise<CheckStep[]>;
  /** A watcher for new mail, when the protocol can push and the connection wants it; else undefined. */
  watch?(connection: ConnectionConfig, context: WatchContext): SourceWatcher | undefined;
}
