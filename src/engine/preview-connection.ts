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
import type { ConnectionConfig } from '../config/schema.ts';
import { judgeEmail } from '../filter/judge-email.ts';
import { isFetchFailure, type ListedEmail, type Source, sourceKeyString } from '../sources/source.ts';
import { createFsContentStore } from '../store/content/fs-content-store.ts';
import type { Store } from '../store/store.ts';
import { discardIngested, ingestEmail, listedFacts } from './ingest-email.ts';

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
  /** `headers`: decided before the download; `content`: after it. */
  decidedOn: 'headers' | 'content';
  /** Taken: each pipeline message it would make and the destination it would go to. */
  parts?: Array<{ kind: string; filename: string; destination: string }>;
}

export interface PreviewDeps {
  store: Pick<Store, 'getCursor' | 'findLedgerEntries'> & Partial<Pick<Store, 'countRequests' | 'requestBuckets'>>;
  source: Source;
  log: Logger;
  limit?: number;
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
    for (const email of next) {
      const facts = await listedFacts(email);
      const judgement = facts && connection.filter ? judgeEmail(connection.filter, facts) : undefined;
      if (facts && judgement?.verdict === 'left') {
        rows.set(sourceKeyString(email.key), {
          key: sourceKeyString(email.key),
          from: facts.from,
          subject: facts.subject,
          size: email.size ?? null,
          verdict: 'left',
          condition: judgement.condition,
          reason: judgement.reason,
          decidedOn: 'headers',
        });
      } else {
        toFetch.push(email);
      }
    }
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
