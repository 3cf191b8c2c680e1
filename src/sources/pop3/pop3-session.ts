/**
 * One POP3 session (RFC 1939 TRANSACTION state) behind the Source interface.
 *
 * - list(): a page of messages (PAGE_EMAILS), keyed by UIDL, with LIST size and TOP header
 *   fingerprint, and `more` when the maildrop holds more; every UIDL is in `presentKeys`, so the
 *   engine prunes the ledger to what the server still holds. The engine takes the next page in
 *   a new session, after QUIT made this one's deletes durable; `listFurther` reads on in this
 *   session past a page of emails all left alone before (`filtered: leave`).
 * - fetch(): RETR streamed, pipelined a few MB ahead while the server has PIPELINING.
 * - acknowledge(): DELE, written at once and not awaited (a DELE queued behind a pipelined RETR
 *   is answered only after that body has been read). The server deletes only at QUIT.
 * - close(): drains what was requested and not read, checks every DELE, sends QUIT and needs
 *   "+OK": only then are the deletes durable. abort() drops the socket without QUIT, and the
 *   server keeps every message; the ledger stops them being delivered twice.
 *
 * Acknowledgements asked for before list() are not sent. The engine asks for them first for
 * emails it committed in an earlier run that may not have been deleted (connection lost before
 * QUIT). Such a UIDL may by now name a NEW email (a server that reuses UIDLs), and this session
 * cannot tell before listing. It need not: pickup acknowledges every listed email the ledger
 * holds with a matching fingerprint again after list(), and a pending key that is no longer
 * listed names nothing to delete.
 */
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { Pop3ConnectionConfig } from '../../config/schema.ts';
import { PostroomError } from '../../model/errors.ts';
import {
  type FetchResult,
  type ListedEmail,
  type Listing,
  type SourceCursor,
  type SourceKey,
  type SourceSession,
  sourceKeyString,
  type Treatment,
} from '../source.ts';
import { serverEndpoint } from '../source-kit.ts';
import type { Pop3Client } from './pop3-client.ts';
import { toPop3Error } from './pop3-errors.ts';
import { type Pop3Index, readIndex, readListing } from './pop3-listing.ts';
import { Pop3ReplyError } from './pop3-reply.ts';
import { withoutServerAddedNewline } from './server-added-newline.ts';

/**
 * Bytes of RETR replies requested ahead of the one being read. Enough to hide the round trip
 * between small emails; small enough that stopping early (throttling) leaves little to drain
 * before QUIT. A larger email is requested only once nothing else is ahead of it.
 */
const RETR_AHEAD_BYTES = 4 * 1024 * 1024;
/** Emails up to this size (as listed) are read whole and handed over as bytes; larger ones stream. */
const WHOLE_EMAIL_BYTES = 1024 * 1024;
/** RETR commands in flight at most, whatever their size. */
const RETR_AHEAD_COUNT = 16;

interface Requested {
  email: ListedEmail;
  response: Promise<Readable>;
}

/**
 * Messages one session lists, fetches and deletes at most: a 20,000-email maildrop is 20
 * sessions, each QUIT making its deletes durable, so a cut loses at most a page's deletes and
 * the state of a poll is a page's, not the maildrop's.
 */
const PAGE_EMAILS = 1_000;

export class Pop3Session implements SourceSession {
  private numbers: Map<string, number> | undefined;
  private index: Pop3Index | undefined;
  /** Messages of the index listed so far in this session (the next page starts there). */
  private listedUpTo = 0;
  private readonly deleted = new Set<number>();
  private readonly deletes: Array<Promise<Error | undefined>> = [];

  constructor(
    private readonly client: Pop3Client,
    private readonly connection: Pop3ConnectionConfig,
    private readonly log: Logger,
  ) {}

  private get endpoint(): { host: string; port: number } {
    return serverEndpoint(this.connection);
  }

  async list(_cursor: SourceCursor | undefined): Promise<Listing> {
    try {
      const index = await readIndex(this.client);
      this.index = index;
      const listing = await this.readPage(index);
      // Without UIDL every key needs TOP, so the one page is the whole maildrop.
      const presentKeys = index.uidls
        ? [...index.uidls.values()].map((uidl): SourceKey => ({ protocol: 'pop3', uidl }))
        : listing.emails.map((email) => email.key);
      return { ...listing, presentKeys, backlog: index.numbers.length };
    } catch (error) {
      throw toPop3Error(error, this.endpoint, 'list');
    }
  }

  /** The next page of this session's maildrop, after a page of emails all left alone before. */
  async listFurther(): Promise<Listing | undefined> {
    if (!this.index || this.listedUpTo >= this.index.numbers.length) return undefined;
    try {
      return await this.readPage(this.index);
    } catch (error) {
      throw toPop3Error(error, this.endpoint, 'list');
    }
  }

  /**
   * At most PAGE_EMAILS messages after those this session listed: the engine commits and
   * deletes a page, and QUIT makes the deletes durable, before the next session lists the next.
   */
  private async readPage(index: Pop3Index): Promise<Listing> {
    const listing = await readListing(this.client, this.log, index, { keepHeaders: !!this.connection.filter, from: this.listedUpTo, count: PAGE_EMAILS });
    this.listedUpTo = index.uidls ? Math.min(index.numbers.length, this.listedUpTo + PAGE_EMAILS) : index.numbers.length;
    this.numbers ??= new Map();
    for (const [key, number] of listing.numbers) this.numbers.set(key, number);
    return { emails: listing.emails, remap: false, ...(this.listedUpTo < index.numbers.length ? { more: true } : {}) };
  }

  async *fetch(emails: ListedEmail[]): AsyncIterable<FetchResult> {
    const ahead: Requested[] = [];
    let next = 0;
    const request = (): void => {
      let bytes = ahead.reduce((sum, item) => sum + (item.email.size ?? 0), 0);
      while (next < emails.length && ahead.length < RETR_AHEAD_COUNT) {
        const email = emails[next]!;
        const size = email.size ?? 0;
        if (ahead.length > 0 && bytes + size > RETR_AHEAD_BYTES) break;
        const number = this.numbers?.get(sourceKeyString(email.key));
        const response =
          number === undefined
            ? Promise.reject(new PostroomError('FETCH_FAILED', `UIDL ${email.key.uidl ?? ''} is not in this session's listing`))
            : this.client.retr(number);
        // Handled when its turn comes; until then a rejection is not "unhandled".
        response.catch(() => {});
        ahead.push({ email, response });
        bytes += size;
        next += 1;
      }
    };
    try {
      request();
      while (ahead.length) {
        const { email, response } = ahead.shift()!;
        request();
        let body: Readable;
        try {
          body = await response;
        } catch (error) {
          if (error instanceof Pop3ReplyError || error instanceof PostroomError) {
            yield { email, error: toPop3Error(error, this.endpoint, 'fetch') };
            continue;
          }
          throw toPop3Error(error, this.endpoint, 'fetch');
        }
        const content = this.content(body, email);
        if ((email.size ?? Number.POSITIVE_INFINITY) > WHOLE_EMAIL_BYTES) {
          yield { email, content };
          continue;
        }
        // A small email is read whole here (the next RETRs are on their way meanwhile), so the
        // engine keeps and parses it from memory instead of reading its raw file back.
        const chunks: Buffer[] = [];
        for await (const chunk of content) chunks.push(chunk as Buffer);
        const bytes = Buffer.concat(chunks);
        yield { email, content: Readable.from([bytes]), bytes };
      }
    } finally {
      // Requested but never handed out (the engine stopped early): read to the end and dropped.
      for (const { response } of ahead)
        void response.then(
          (body) => body.destroy(),
          () => {},
        );
    }
  }

  /** The email as the engine reads it: the server-added newline undone, errors in the catalogue. */
  private content(body: Readable, email: ListedEmail): Readable {
    const out = withoutServerAddedNewline(email.size);
    // The engine may await the store before it reads: an error meanwhile must not crash the
    // process. Its pipeline still sees it (`errored`) and rejects with it.
    out.on('error', () => {});
    if (body.errored || body.destroyed) {
      // The connection failed while this reply waited its turn.
      out.destroy(
        toPop3Error(
          body.errored ?? Object.assign(new Error('the connection closed before this email was read'), { code: 'EConnectionClosed' }),
          this.endpoint,
          'fetch',
        ),
      );
      return out;
    }
    body.on('error', (error) => out.destroy(toPop3Error(error, this.endpoint, 'fetch')));
    // The reader gave up: the connection reads the rest of the body and drops it.
    out.on('close', () => {
      if (!body.readableEnded) body.destroy();
    });
    body.pipe(out);
    return out;
  }

  async acknowledge(keys: SourceKey[], treatment?: Treatment): Promise<void> {
    // POP3 can only delete (the config refuses markRead and moveTo for it).
    if (treatment && treatment.kind !== 'delete') return;
    if (!this.numbers) {
      this.log.debug({ keys: keys.length }, 'POP3: acknowledgements before listing are left to the post-listing pass');
      return;
    }
    for (const key of keys) {
      const number = this.numbers.get(sourceKeyString(key));
      if (number === undefined || this.deleted.has(number)) continue;
      this.deleted.add(number);
      this.deletes.push(
        this.client.dele(number).then(
          () => undefined,
          (error: Error) => error,
        ),
      );
    }
  }

  async close(): Promise<void> {
    try {
      await this.client.whenIdle();
      const failed = (await Promise.all(this.deletes)).find((error) => error !== undefined);
      // The DELEs that worked are committed even when one did not; the engine then marks none
      // acknowledged, and the next run deletes what is left.
      await this.client.quit();
      if (failed) throw failed;
    } catch (error) {
      this.client.destroy();
      throw toPop3Error(error, this.endpoint, 'acknowledge');
    }
  }

  abort(): void {
    this.client.destroy();
  }
}
