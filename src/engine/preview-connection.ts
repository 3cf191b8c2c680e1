/**
 * `postroom preview`: what the next poll would do with the emails on the server, without doing
 * it. It lists as the poll lists (from the stored cursor, the ledger's emails left out), judges
 * each email as the pickup judges it (on the headers first, else downloaded and split into a
 * temporary directory that is removed afterwards) and acknowledges, commits and emits nothing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { FilterConfig } from '../config/filter-schema.ts';
import type { ConnectionConfig } from '../config/schema.ts';
import { judgeEmail } from '../filter/judge-email.ts';
import { isFetchFailure, type ListedEmail, type Source, sourceKeyString } from '../sources/source.ts';
import { createFsContentStore } from '../store/content/fs-content-store.ts';
import type { Store } from '../store/store.ts';
import { discardIngested, ingestEmail, listedFacts, listedJudgement } from './ingest-email.ts';

/** Emails previewed unless asked otherwise: enough to see the rules at work, few enough to download. */
export const DEFAULT_PREVIEW_LIMIT = 20;

export interface PreviewRow {
  key: string;
  from: string | null;
  subject: string | null;
  size: number | null;
  verdict: 'taken' | 'left' | 'unreadable';
  /** The condition that decided (`left`), or why it was taken. */
  condition: string | null;
  reason: string;
  /** `server`: left out by the server's search, before its headers were read; `headers`: decided before the download; `content`: after it. */
  decidedOn: 'server' | 'headers' | 'content';
  /** Left out by the server's search although its headers meet the condition: the server's search is wrong there. */
  warning?: string;
  /** Taken: each pipeline message it would make and the destination it would go to. */
  parts?: Array<{ kind: string; filename: string; destination: string }>;
}

export interface PreviewDeps {
  store: Pick<Store, 'getCursor' | 'findLedgerEntries'> & Partial<Pick<Store, 'countRequests' | 'requestBuckets'>>;
  source: Source;
  log: Logger;
  limit?: number;
}

/**
 * What a poll never reads of an email the server's search left out: preview reads its headers to
 * show who sent it, and says when they meet the condition the search decided (that server's
 * search is wrong there). The verdict stays `left`, as the poll's is.
 */
async function describeLeftByServer(name: string, filter: FilterConfig, emails: ListedEmail[], rows: Map<string, PreviewRow>): Promise<void> {
  for (const email of emails) {
    const row = rows.get(sourceKeyString(email.key));
    const facts = await listedFacts(email);
    if (!row || !facts || !email.leftByServer) continue;
    row.from = facts.from;
    row.subject = facts.subject;
    row.size = email.size ?? null;
    const { condition } = email.leftByServer;
    const alone = { autoReplies: 'include', bounces: 'include', [condition]: filter[condition] } as FilterConfig;
    if (judgeEmail(alone, facts).verdict !== 'left') {
      row.warning = `the server's SEARCH did not find it, yet its headers meet the ${condition} condition: this server's search is wrong here. A poll leaves it unread all the same; set filterOnServer: false on the connection so Postroom judges every email itself, then run \`postroom rescan ${name}\``;
    }
  }
}

export async function previewConnection(connection: ConnectionConfig, deps: PreviewDeps): Promise<PreviewRow[]> {
  const limit = deps.limit ?? DEFAULT_PREVIEW_LIMIT;
  const requests = deps.store.countRequests && deps.store.requestBuckets ? (deps.store as Store) : undefined;
  const session = await deps.source.open(connection, { log: deps.log, ...(requests ? { requests } : {}) });
  const scratch = await mkdtemp(join(tmpdir(), 'postroom-preview-'));
  const contents = createFsContentStore(scratch);
  try {
    const listing = await session.list(await deps.store.getCursor(connection.name));
    const known = await deps.store.findLedgerEntries(
      connection.name,
      listing.emails.map((email) => sourceKeyString(email.key)),
    );
    const next = listing.emails
      .filter((email) => {
        const entry = known.get(sourceKeyString(email.key));
        return !(entry && (email.fingerprint === undefined || entry.fingerprint === null || entry.fingerprint === email.fingerprint));
      })
      .slice(0, limit);
    const rows = new Map<string, PreviewRow>();
    const toFetch: ListedEmail[] = [];
    const leftByServer: ListedEmail[] = [];
    for (const email of next) {
      const listed = connection.filter ? await listedJudgement(connection.filter, email) : undefined;
      if (listed?.judgement.verdict === 'left') {
        rows.set(sourceKeyString(email.key), {
          key: sourceKeyString(email.key),
          from: listed.facts?.from ?? null,
          subject: listed.facts?.subject ?? null,
          size: email.size ?? null,
          verdict: 'left',
          condition: listed.judgement.condition,
          reason: listed.judgement.reason,
          decidedOn: email.leftByServer ? 'server' : 'headers',
        });
        if (email.leftByServer) leftByServer.push(email);
      } else {
        toFetch.push(email);
      }
    }
    if (connection.filter && leftByServer.length && session.headsOf)
      await describeLeftByServer(connection.name, connection.filter, await session.headsOf(leftByServer), rows);
    for await (const fetched of session.fetch(toFetch)) {
      const key = sourceKeyString(fetched.email.key);
      const size = fetched.email.size ?? null;
      if (isFetchFailure(fetched)) {
        rows.set(key, { key, from: null, subject: null, size, verdict: 'unreadable', condition: null, reason: fetched.error.message, decidedOn: 'content' });
        continue;
      }
      const ingested = await ingestEmail(connection, fetched.email, fetched.content, contents, Date.now());
      try {
        const from = ingested.split.email.from;
        const judgement = ingested.judgement;
        if (ingested.commit.filtered) {
          rows.set(key, {
            key,
            from,
            subject: ingested.split.email.subject,
            size,
            verdict: 'left',
            condition: ingested.commit.filtered.condition,
            reason: ingested.commit.filtered.reason,
            decidedOn: 'content',
          });
        } else {
          rows.set(key, {
            key,
            from,
            subject: ingested.split.email.subject,
            size: size ?? ingested.raw.size,
            verdict: 'taken',
            condition: null,
            reason: judgement?.reason ?? 'no filter',
            decidedOn: 'content',
            parts: ingested.commit.messages.map((message) => ({
              kind: message.envelope.kind,
              filename: message.envelope.filename,
              destination: message.destination,
            })),
          });
        }
      } finally {
        await discardIngested(ingested, contents);
      }
    }
    return next.map((email) => rows.get(sourceKeyString(email.key))).filter((row): row is PreviewRow => row !== undefined);
  } finally {
    // Nothing was acknowledged: dropping the session commits nothing (POP3 sends no QUIT, so no DELE).
    session.abort();
    await rm(scratch, { recursive: true, force: true });
  }
}
