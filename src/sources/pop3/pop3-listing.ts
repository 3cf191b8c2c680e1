/**
 * What a POP3 mailbox holds, keyed for the ledger:
 *
 * - key: the UIDL (RFC 1939), stable across sessions;
 * - size: from LIST;
 * - fingerprint: sha256 of the header section from `TOP n 0`. Some servers hand a deleted
 *   email's UIDL to a new one; the ledger only counts an email as already emitted when key AND
 *   fingerprint match, so the new email is never skipped as "already seen".
 *
 * UIDL and LIST cover the whole maildrop (a line per message); `TOP` is asked only for the page
 * being listed, pipelined in batches. POP3 mailboxes are emptied on every run (Postroom always
 * deletes), so a page is nearly always only new mail, which RETR will fetch anyway: the headers
 * cost a few KB per email and a round trip per batch (see README).
 *
 * Without UIDL, the key falls back to a hash of the headers and the size ("hdr-<sha256>", with
 * "#2", "#3"... for identical copies in one listing), and a warning is logged: identical emails
 * are told apart only by their position. Without UIDL and TOP no stable key exists: the
 * connection fails with CAPABILITY_MISSING.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { PostroomError } from '../../model/errors.ts';
import { type ListedEmail, type SourceKey, sourceKeyString } from '../source.ts';
import type { Pop3Client } from './pop3-client.ts';
import { Pop3ReplyError } from './pop3-reply.ts';

/** TOP commands written per round trip (with PIPELINING): few KB of replies each. */
const TOP_BATCH = 100;

export interface Pop3Listing {
  emails: ListedEmail[];
  /** Ledger key string → message number in this session. */
  numbers: Map<string, number>;
}

function sha256(...parts: Array<Buffer | string>): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}

/** UIDL per message number, or undefined when the server has no UIDL. */
async function readUidls(client: Pop3Client): Promise<Map<number, string> | undefined> {
  if (client.capabilities.size > 0 && !client.has('UIDL')) return undefined;
  try {
    return await client.uidl();
  } catch (error) {
    if (error instanceof Pop3ReplyError) return undefined;
    throw error;
  }
}

/** Header fingerprint per message number; undefined when the server has no TOP. `heads` keeps the headers themselves (for a filter). */
async function readFingerprints(client: Pop3Client, numbers: number[], heads?: Map<number, Buffer>): Promise<Map<number, string> | undefined> {
  if (client.capabilities.size > 0 && !client.has('TOP')) return undefined;
  const fingerprints = new Map<number, string>();
  for (let start = 0; start < numbers.length; start += TOP_BATCH) {
    const batch = numbers.slice(start, start + TOP_BATCH);
    const results = await Promise.allSettled(batch.map((number) => client.top(number, 0)));
    results.forEach((result, index) => {
      if (result.status === 'fulfilled') {
        fingerprints.set(batch[index]!, sha256(result.value));
        heads?.set(batch[index]!, result.value);
      }
    });
    const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failure && !(failure.reason instanceof Pop3ReplyError)) throw failure.reason;
    // A server that refuses the very first TOP has none (no CAPA to say so beforehand).
    if (start === 0 && fingerprints.size === 0 && failure) return undefined;
  }
  return fingerprints;
}

/** What UIDL and LIST say of the whole maildrop: cheap, a line per message. */
export interface Pop3Index {
  uidls: Map<number, string> | undefined;
  sizes: Map<number, number>;
  /** Message numbers, ascending (oldest first). */
  numbers: number[];
}

export async function readIndex(client: Pop3Client): Promise<Pop3Index> {
  const uidls = await readUidls(client);
  const sizes = await client.list();
  return { uidls, sizes, numbers: [...sizes.keys()].sort((a, b) => a - b) };
}

/**
 * The listing of messages `from` to `from + count` of the index (all of them without UIDL, whose
 * keys need every message's headers, identical copies being told apart by their order).
 */
export async function readListing(
  client: Pop3Client,
  log: Logger,
  index: Pop3Index,
  options: { keepHeaders?: boolean; from?: number; count?: number } = {},
): Promise<Pop3Listing> {
  const { uidls, sizes } = index;
  const from = uidls ? (options.from ?? 0) : 0;
  const numbers = uidls ? index.numbers.slice(from, from + (options.count ?? index.numbers.length)) : index.numbers;
  const heads = options.keepHeaders ? new Map<number, Buffer>() : undefined;
  const fingerprints = await readFingerprints(client, numbers, heads);
  if (!fingerprints && numbers.length && from === 0) {
    log.warn('the POP3 server has no TOP: a reused UIDL cannot be told from a redelivered email');
  }
  if (!uidls) {
    if (!fingerprints) {
      throw new PostroomError('CAPABILITY_MISSING', 'the POP3 server has neither UIDL nor TOP, so emails have no stable identity', {
        hint: 'Postroom needs UIDL (or at least TOP) to deliver each email exactly once; ask the provider to enable it.',
      });
    }
    if (numbers.length) log.warn('the POP3 server has no UIDL: emails are keyed by a hash of their headers and size');
  }

  const emails: ListedEmail[] = [];
  const keyNumbers = new Map<string, number>();
  const copies = new Map<string, number>();
  for (const number of numbers) {
    const size = sizes.get(number)!;
    const fingerprint = fingerprints?.get(number);
    let uidl = uidls?.get(number);
    if (uidl === undefined) {
      if (fingerprint === undefined) continue; // TOP refused for this one message: it waits for the next poll.
      const base = `hdr-${sha256(fingerprint, '\u0000', String(size))}`;
      const copy = (copies.get(base) ?? 0) + 1;
      copies.set(base, copy);
      uidl = copy === 1 ? base : `${base}#${copy}`;
    }
    const key: SourceKey = { protocol: 'pop3', uidl };
    const email: ListedEmail = { key, size };
    if (fingerprint !== undefined) email.fingerprint = fingerprint;
    const headers = heads?.get(number);
    if (headers) email.head = { headers };
    emails.push(email);
    keyNumbers.set(sourceKeyString(key), number);
  }
  return { emails, numbers: keyNumbers };
}
