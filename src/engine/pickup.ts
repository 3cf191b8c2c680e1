/**
 * The pickup sequence for one connection (DESIGN "Never lose, never duplicate"):
 *
 *   1. an email the ledger already has is only acknowledged, never emitted again;
 *   2. a new email is fetched, kept raw, split, and its ledger row + outbox rows + cursor are
 *      committed in ONE transaction fenced by the lease;
 *   3. only then is it acknowledged on the server (seen / move / delete), and the ledger says so
 *      once the server has made that durable.
 *
 * Emails are kept and split a few at a time and committed in groups (src/engine/ingest-pipeline.ts):
 * their content files are fsynced together, then one transaction commits the group, then each
 * is acknowledged. Step 3 still follows step 2 for every email; a crash before the group's
 * commit loses only work (the emails are fetched again), never an email.
 *
 * A crash anywhere leads to a retry that neither loses nor duplicates. One email that cannot be
 * fetched never blocks the rest: it is reported, the cursor stays before it, and it is tried again.
 */
import type { Span } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { FilteredAction } from '../config/filter-schema.ts';
import type { ConnectionConfig } from '../config/schema.ts';
import type { Clock } from '../model/clock.ts';
import type { ContentStore } from '../model/content-store.ts';
import { errorMessage, isPostroomError, PostroomError } from '../model/errors.ts';
import { faultPoint } from '../model/fault-points.ts';
import {
  type FetchResult,
  isFetchFailure,
  type ListedEmail,
  type Listing,
  type Source,
  type SourceKey,
  type SourceSession,
  sourceKeyString,
  type Treatment,
} from '../sources/source.ts';
import type { EmailCommit, Store } from '../store/store.ts';
import { throttleAccount } from '../throttle/account.ts';
import { contentRefs, discardIngested, type IngestedEmail, ingestEmail, leftBeforeDownload, listedJudgement } from './ingest-email.ts';
import { IngestPipeline } from './ingest-pipeline.ts';
import type { LeaseKeeper } from './lease-keeper.ts';
import type { WaitForRoom } from './outbox-room.ts';
import type { ParseThreads } from './parse-threads.ts';
import { failSpan, startEmailSpan, traceParentOf } from './traces.ts';

/** Emails kept and split at once, while the next ones arrive (times twice the parse threads, with threads: each keeps two going). */
const INGEST_AHEAD = 4;
/** Emails per commit: one fsync of the store for all of them. */
const GROUP_EMAILS = 32;
/** ...or fewer, once their content adds up to this: a large email is committed without waiting for more. */
const GROUP_BYTES = 8 * 1024 * 1024;
/** A long poll records confirmed acknowledgements in the ledger every this many (one UPDATE each time). */
const RECORD_ACKNOWLEDGED_EVERY = 500;

/** The commit with its email span's traceparent on each pipeline message, when traced. */
function withTrace(commit: EmailCommit, span: Span | undefined): EmailCommit {
  const traceParent = span && traceParentOf(span);
  return traceParent ? { ...commit, messages: commit.messages.map((message) => ({ ...message, traceParent })) } : commit;
}

export interface PickupDeps {
  store: Store;
  contents: ContentStore;
  clock: Clock;
  log: Logger;
  source: Source;
  signal?: AbortSignal;
  onProgress?: (progress: { done: number; total: number }) => void;
  /** Called after each committed group of emails, e.g. to wake the delivery loop. */
  onCommitted?: (messages: number) => void;
  /** Pauses intake while the outbox is too full (backpressure). Resolves when it may go on. */
  waitForRoom?: WaitForRoom;
  /** Keeps and splits emails that arrived whole on worker threads; without it, on this thread. */
  parser?: ParseThreads;
}

export interface PickupResult {
  listed: number;
  /** Emails committed (emitted) in this run. */
  emails: number;
  /** Pipeline messages written to the outbox in this run. */
  messages: number;
  /** Emails found already emitted and only acknowledged. */
  alreadyEmitted: number;
  /** Emails recognised after a UIDVALIDITY change and not delivered again. */
  remapped: number;
  acknowledged: number;
  /** Emails the filter did not take in this run (never emitted), per condition. */
  filtered: number;
  filteredBy: Record<string, number>;
  failures: Array<{ key: SourceKey; error: string }>;
  /** The run stopped early because the account is throttled. */
  throttledUntil?: number;
  /** The source holds more new emails than this run listed (a Graph page): run again. */
  more?: boolean;
  /** New emails the server said it holds, at this run's listing. */
  backlog?: number;
}

export async function runPickup(connection: ConnectionConfig, lease: LeaseKeeper, deps: PickupDeps): Promise<PickupResult> {
  const { store, contents, clock, log } = deps;
  const result: PickupResult = {
    listed: 0,
    emails: 0,
    messages: 0,
    alreadyEmitted: 0,
    remapped: 0,
    acknowledged: 0,
    filtered: 0,
    filteredBy: {},
    failures: [],
  };
  const treatment = treatmentOf(connection.filtered);
  /** An email the filter did not take, treated on the server as `filtered` says (nothing for leave). */
  const treatFiltered = async (keys: SourceKey[]): Promise<void> => {
    if (treatment && keys.length) await session.acknowledge(keys, treatment);
  };
  const account = throttleAccount(connection);
  const session: SourceSession = await deps.source.open(connection, { log, requests: store, ...(deps.signal ? { signal: deps.signal } : {}) });
  const acknowledged: string[] = [];
  /** Each email's span, from its pickup to its acknowledgement (engine/traces.ts). */
  const spans = new Map<string, Span>();
  const endSpans = (event: string, error?: unknown): void => {
    for (const span of spans.values()) {
      if (error === undefined) span.addEvent(event);
      else failSpan(span, error);
      span.end();
    }
    spans.clear();
  };
  /** How many of the acknowledgements the server confirmed the ledger already says, and when that was last looked at. */
  let recordedSoFar = 0;
  let checkedAt = 0;
  const acknowledge = async (keys: SourceKey[]): Promise<void> => {
    if (!keys.length) return;
    await session.acknowledge(keys);
    acknowledged.push(...keys.map(sourceKeyString));
    // A long poll records the confirmed ones as it goes, so their raw emails can be let go and a
    // crash leaves little to acknowledge again, rather than all of it waiting for the poll's end.
    if (acknowledged.length - checkedAt < RECORD_ACKNOWLEDGED_EVERY) return;
    checkedAt = acknowledged.length;
    const confirmed = session.acknowledgedSoFar?.(recordedSoFar).map(sourceKeyString) ?? [];
    if (!confirmed.length) return;
    recordedSoFar += confirmed.length;
    await lease.fenced((current) => store.markAcknowledged(current, connection.name, confirmed, clock.now(), acknowledgementWords(connection)));
  };

  try {
    // Step 3 left over from an earlier run (crash or lost connection after commit).
    const pending = await store.pendingAcknowledgements(connection.name);
    await acknowledge(pending.map((entry) => entry.key));

    let listing: Listing = await session.list(await store.getCursor(connection.name));
    result.listed = listing.emails.length;
    if (listing.more) result.more = true;
    if (listing.backlog !== undefined) result.backlog = listing.backlog;
    if (listing.presentKeys) {
      const pruned = await store.pruneLedger(connection.name, new Set(listing.presentKeys.map(sourceKeyString)), connection.hostType);
      if (pruned) log.debug({ pruned }, 'forgot ledger entries the server no longer lists');
    }
    if (listing.remap) {
      log.warn(
        { emails: listing.emails.length },
        'the server renumbered the folder (UIDVALIDITY changed): matching emails by Message-ID and content so none is delivered twice',
      );
    }

    // Step 1: what the ledger already has is acknowledged, not emitted again; what the filter
    // left out before is treated as `filtered` says again (a crash may have come between).
    let fresh: ListedEmail[] = [];
    for (;;) {
      const seen: SourceKey[] = [];
      const leftBefore: SourceKey[] = [];
      const known = await store.findLedgerEntries(
        connection.name,
        listing.emails.map((email) => sourceKeyString(email.key)),
      );
      for (const email of listing.emails) {
        const entry = known.get(sourceKeyString(email.key));
        if (entry && (email.fingerprint === undefined || entry.fingerprint === null || entry.fingerprint === email.fingerprint)) {
          (entry.state === 'filtered' ? leftBefore : seen).push(email.key);
        } else {
          fresh.push(email);
        }
      }
      result.alreadyEmitted += seen.length;
      await acknowledge(seen);
      await treatFiltered(leftBefore);
      // A page of emails all left alone before (Graph keeps them unread at the head): read on past them.
      if (fresh.length || !listing.more || leftBefore.length === 0 || !session.listFurther) break;
      const further = await session.listFurther();
      if (!further) break;
      listing = { ...further, remap: listing.remap };
      fresh = [];
    }
    deps.onProgress?.({ done: 0, total: fresh.length });

    let done = 0;
    /** One group: matched after a UIDVALIDITY change, made durable, committed, then acknowledged. */
    const commitGroup = async (group: IngestedEmail[]): Promise<void> => {
      let committed: IngestedEmail[];
      let outcomes: Array<'committed' | 'already-emitted'>;
      try {
        committed = listing.remap ? await recordAliases(group) : group;
        await contents.makeDurable(committed.flatMap(contentRefs));
        const now = clock.now();
        outcomes = await lease.fenced((current) =>
          store.commitEmails(
            current,
            committed.map((ingested) => withTrace({ ...ingested.commit, now }, spans.get(sourceKeyString(ingested.commit.key)))),
          ),
        );
      } catch (error) {
        await Promise.all(group.map((ingested) => discardIngested(ingested, contents)));
        throw error;
      }
      let messages = 0;
      for (const [index, ingested] of committed.entries()) {
        const span = spans.get(sourceKeyString(ingested.commit.key));
        if (outcomes[index] === 'already-emitted') {
          span?.addEvent('already committed by another run');
          // Another run (whose lease overlapped ours) committed it first: only acknowledge.
          await discardIngested(ingested, contents);
          result.alreadyEmitted += 1;
          await acknowledge([ingested.commit.key]);
          continue;
        }
        if (ingested.commit.filtered) {
          span?.addEvent('filtered', { 'postroom.filter.condition': ingested.commit.filtered.condition });
          result.filtered += 1;
          result.filteredBy[ingested.commit.filtered.condition] = (result.filteredBy[ingested.commit.filtered.condition] ?? 0) + 1;
          log.debug(
            { key: ingested.commit.sourceKey, condition: ingested.commit.filtered.condition, reason: ingested.commit.filtered.reason },
            'not taken by the filter',
          );
          await treatFiltered([ingested.commit.key]);
          continue;
        }
        faultPoint('after-commit');
        span?.addEvent('committed', { 'postroom.messages': ingested.commit.messages.length });
        result.emails += 1;
        result.messages += ingested.commit.messages.length;
        messages += ingested.commit.messages.length;
        await acknowledge([ingested.commit.key]);
        deps.onProgress?.({ done: ++done, total: fresh.length });
      }
      if (messages) deps.onCommitted?.(messages);
    };
    /** After a UIDVALIDITY change: emails emitted before under their old UID are recorded as such and only acknowledged. */
    const recordAliases = async (group: IngestedEmail[]): Promise<IngestedEmail[]> => {
      const unseen: IngestedEmail[] = [];
      for (const ingested of group) {
        const { commit } = ingested;
        // Left out by the filter: recorded as filtered under its new key, never as an alias of what was emitted.
        if (commit.filtered) {
          unseen.push(ingested);
          continue;
        }
        const earlier = await store.findByContent(connection.name, ingested.split.email.messageId, ingested.raw.sha256);
        if (!earlier) {
          unseen.push(ingested);
          continue;
        }
        await lease.fenced((current) =>
          store.recordAlias(current, {
            connection: connection.name,
            sourceKey: commit.sourceKey,
            key: commit.key,
            of: earlier,
            ...(commit.cursor ? { cursor: commit.cursor } : {}),
            now: clock.now(),
          }),
        );
        await discardIngested(ingested, contents);
        result.remapped += 1;
        await acknowledge([commit.key]);
      }
      return unseen;
    };
    const pipeline = new IngestPipeline({
      // After a UIDVALIDITY change each email is matched and committed on its own: an alias
      // moves the cursor, which must never pass an email not committed yet.
      ahead: listing.remap ? 1 : INGEST_AHEAD * (deps.parser ? 2 * deps.parser.threads : 1),
      groupEmails: listing.remap ? 1 : GROUP_EMAILS,
      groupBytes: GROUP_BYTES,
      ingest: (email, content, bytes) => {
        spans.set(sourceKeyString(email.key), startEmailSpan(connection.name, sourceKeyString(email.key)));
        return bytes && deps.parser
          ? deps.parser.ingest(connection, email, bytes, clock.now())
          : ingestEmail(connection, email, bytes ?? content, contents, clock.now());
      },
      commit: commitGroup,
      discard: (ingested) => {
        const key = sourceKeyString(ingested.commit.key);
        spans.get(key)?.addEvent('discarded');
        return discardIngested(ingested, contents);
      },
    });

    // The filter on what the listing read before the body (or the server's search, which left an
    // email out before even its headers were read): an email it certainly leaves out is not
    // downloaded. It still goes through the pipeline in its place, so the cursor never passes an
    // email not committed yet.
    // Once an email fails, later cursors are not saved, so the next run lists it again.
    let cursorHeld = false;
    const leftUnread = new Map<string, IngestedEmail>();
    if (connection.filter) {
      for (const email of fresh) {
        const listed = await listedJudgement(connection.filter, email);
        if (listed?.judgement.verdict === 'left') {
          leftUnread.set(sourceKeyString(email.key), leftBeforeDownload(connection, email, listed.judgement, clock.now(), listed.facts));
        }
      }
    }
    const order = fresh.map((email) => sourceKeyString(email.key));
    // Where each key stands in the listing: looked up once per fetched email, so a Map, not
    // indexOf (which made a 100,000-email poll quadratic).
    const position = leftUnread.size ? new Map(order.map((key, index) => [key, index])) : new Map<string, number>();
    let placed = 0;
    /** Adds the emails left out before the download that come before `key` in the listing (all, without one). */
    const placeLeftUnread = async (key?: string): Promise<void> => {
      if (!leftUnread.size) return;
      const until = key === undefined ? order.length : (position.get(key) ?? -1);
      for (; placed < until; placed += 1) {
        const ingested = leftUnread.get(order[placed]!);
        if (!ingested) continue;
        if (cursorHeld) delete ingested.commit.cursor;
        await pipeline.addReady(ingested);
      }
      if (key !== undefined && until >= placed) placed = until + 1;
    };
    const toFetch = leftUnread.size ? fresh.filter((email) => !leftUnread.has(sourceKeyString(email.key))) : fresh;
    const fetching = session.fetch(toFetch)[Symbol.asyncIterator]();
    try {
      for (;;) {
        let next: IteratorResult<FetchResult>;
        try {
          next = await fetching.next();
        } catch (error) {
          // The fetch broke off (throttling, a dropped connection): what was read completely is
          // committed first, then the run fails as the source says.
          await pipeline.flush().catch(() => pipeline.abandon());
          throw error;
        }
        if (next.done) break;
        const fetched = next.value;
        if (deps.signal?.aborted) {
          if (!isFetchFailure(fetched)) fetched.content.destroy();
          await fetching.return?.();
          break;
        }
        // Another worker may have been throttled on this account: looked at between groups.
        const throttle = pipeline.empty ? await store.getThrottle(account) : undefined;
        if (throttle && throttle.until > clock.now()) {
          if (!isFetchFailure(fetched)) fetched.content.destroy();
          await fetching.return?.();
          result.throttledUntil = throttle.until;
          log.info({ until: new Date(throttle.until).toISOString() }, 'account throttled: stopping this run, reading resumes after the wait');
          break;
        }
        await placeLeftUnread(sourceKeyString(fetched.email.key));
        if (isFetchFailure(fetched)) {
          // Throttling is about the account, not this email (providers throttle the account): stop reading, leave the
          // rest on the server, and let the poll pause every worker.
          if (isPostroomError(fetched.error) && fetched.error.throttling) {
            await pipeline.flush();
            throw fetched.error;
          }
          if (fetched.gone) {
            // Someone else removed it after the listing: nothing was lost, nothing to try again.
            log.info({ key: sourceKeyString(fetched.email.key) }, `skipped an email the server no longer has: ${errorMessage(fetched.error)}`);
            continue;
          }
          cursorHeld = true;
          result.failures.push({ key: fetched.email.key, error: errorMessage(fetched.error) });
          log.warn(
            { key: sourceKeyString(fetched.email.key), err: fetched.error },
            'could not fetch an email; going on with the rest, it is tried again next poll',
          );
          continue;
        }
        await deps.waitForRoom?.(connection.name, {
          uncommitted: pipeline.uncommittedMessages,
          committed: result.messages,
          beforeWaiting: () => pipeline.flush(),
        });
        await pipeline.add(cursorHeld ? { ...fetched.email, cursorAfter: undefined } : fetched.email, fetched.content, fetched.bytes);
      }
      if (result.throttledUntil === undefined && !deps.signal?.aborted) await placeLeftUnread();
      await pipeline.flush();
    } catch (error) {
      await pipeline.abandon();
      throw error;
    }
    if (listing.remap && result.remapped) log.warn({ remapped: result.remapped }, 'emails recognised after UIDVALIDITY change and not delivered again');

    if (result.throttledUntil !== undefined) {
      // Nothing more is sent to a throttled account, acknowledgements included: they stay
      // pending in the ledger and are made when reading resumes (the ledger keeps this exact).
      session.abort();
      await recordAcknowledgedSoFar(session, connection, lease, deps);
      endSpans('acknowledgement waits for the throttle to end');
      return result;
    }
    // Step 3 made durable: the server has applied every acknowledgement once close() resolves.
    await session.close();
    faultPoint('during-acknowledge');
    await lease.fenced((current) => store.markAcknowledged(current, connection.name, acknowledged, clock.now(), acknowledgementWords(connection)));
    result.acknowledged = acknowledged.length;
    endSpans('acknowledged');
    return result;
  } catch (error) {
    endSpans('failed', error);
    session.abort();
    await recordAcknowledgedSoFar(session, connection, lease, deps);
    const thrown = isPostroomError(error) ? error : new PostroomError('FETCH_FAILED', errorMessage(error), { cause: error });
    pickedUpBefore.set(thrown, result);
    throw thrown;
  }
}

/** What acknowledging an email asked of the server, in the email trail's words. */
export function acknowledgementWords(connection: ConnectionConfig): string {
  const moveTo = connection.hostType === 'pop3' ? undefined : connection.moveTo;
  if (moveTo) return `moved to ${moveTo}`;
  if (connection.deleteMessages) return 'deleted from the server';
  return connection.hostType === 'pop3' ? 'left on the server (POP3 has no read flag: the ledger remembers its UIDL)' : 'marked read';
}

/** What `filtered` asks the server to do with an email not taken; undefined for leave. */
export function treatmentOf(filtered: FilteredAction | undefined): Treatment | undefined {
  if (filtered === undefined || filtered === 'leave') return undefined;
  if (filtered === 'markRead') return { kind: 'markRead' };
  if (filtered === 'delete') return { kind: 'delete' };
  return { kind: 'moveTo', folder: filtered.moveTo };
}

/** What a run that threw had committed before it stopped (it stands), by the error it threw. */
export const pickedUpBefore = new WeakMap<object, PickupResult>();

/**
 * A run that ends without close() (throttled, failed) still records what the server confirmed,
 * so those acknowledgements are not sent, and counted against a request budget, again.
 */
async function recordAcknowledgedSoFar(session: SourceSession, connection: ConnectionConfig, lease: LeaseKeeper, deps: PickupDeps): Promise<void> {
  const keys = session.acknowledgedSoFar?.().map(sourceKeyString) ?? [];
  if (!keys.length) return;
  await lease
    .fenced((current) => deps.store.markAcknowledged(current, connection.name, keys, deps.clock.now(), acknowledgementWords(connection)))
    .catch((error: unknown) => {
      deps.log.debug({ err: error }, 'could not record the acknowledgements made so far; they are made again next run');
    });
}
