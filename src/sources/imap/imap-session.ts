/**
 * One IMAP session over one selected folder. The cursor is the UID within a UIDVALIDITY:
 * listing asks for unseen, undeleted messages in `lastUid+1:*`, never by date or UNSEEN alone.
 *
 * Fetching: small emails come in pipelined UID FETCH batches (one round trip per batch), the
 * next batch asked for while the current one is handed out (so at most two batches, 16 MB, are
 * held); large ones are streamed with imapflow's download() so memory does not grow with their size.
 * Acknowledgements are queued and flushed between fetch commands and at close(), because
 * imapflow runs one command at a time and a flag update issued inside a running FETCH would wait
 * for it forever.
 */
import { Readable } from 'node:stream';
import type { ImapFlow } from 'imapflow';
import type { Logger } from 'pino';
import { classify } from '../../throttle/classify.ts';
import type { ImapConnectionConfig } from '../../config/schema.ts';
import { PostroomError } from '../../model/errors.ts';
import type { FetchResult, ListedEmail, Listing, SourceCursor, SourceKey, SourceSession } from '../source.ts';
import { toImapError } from './imap-errors.ts';
import type { ThrottleNotices } from './imap-throttle-notices.ts';
import { serverEndpoint } from '../source-kit.ts';

/** Emails up to this size travel in batched FETCHes and are held in memory briefly; larger ones stream. */
const SMALL_EMAIL_BYTES = 1024 * 1024;
/** Bytes per batched FETCH: big enough to amortise the round trip, small enough to bound memory. */
const BATCH_BYTES = 8 * 1024 * 1024;
/** Emails per batched FETCH, so a UID set stays short. */
const BATCH_EMAILS = 250;
/** Chunk asked per partial FETCH when streaming a large email (imapflow's default is 64 KiB). */
const DOWNLOAD_CHUNK_BYTES = 1024 * 1024;
/** Pause after an OK [THROTTLED] when the classifier names no wait. */
const SLOW_DOWN_DEFAULT_MS = 1_000;
/** UIDs per STORE/MOVE/EXPUNGE command. */
const ACK_BATCH = 500;

export interface ImapCursor extends SourceCursor {
  uidValidity: string;
  lastUid: number;
}

function isImapCursor(cursor: SourceCursor | undefined): cursor is ImapCursor {
  return !!cursor && typeof cursor.uidValidity === 'string' && typeof cursor.lastUid === 'number';
}

function batches(emails: ListedEmail[]): ListedEmail[][] {
  const out: ListedEmail[][] = [];
  let current: ListedEmail[] = [];
  let bytes = 0;
  const flush = (): void => {
    if (current.length) out.push(current);
    current = [];
    bytes = 0;
  };
  for (const email of emails) {
    const size = email.size ?? 0;
    if (size > SMALL_EMAIL_BYTES) {
      flush();
      out.push([email]);
      continue;
    }
    if (current.length >= BATCH_EMAILS || (bytes + size > BATCH_BYTES && current.length)) flush();
    current.push(email);
    bytes += size;
  }
  flush();
  return out;
}

function isLarge(batch: ListedEmail[]): boolean {
  return batch.length === 1 && (batch[0]!.size ?? 0) > SMALL_EMAIL_BYTES;
}

interface FetchedBatch {
  sources: Map<number, Buffer>;
  error?: unknown;
}

export class ImapSession implements SourceSession {
  private uidValidity = '';
  private readonly pendingAcks: number[] = [];

  constructor(
    private readonly client: ImapFlow,
    private readonly connection: ImapConnectionConfig,
    private readonly notices?: ThrottleNotices,
    private readonly log?: Logger,
  ) {}

  /** Slows down, without stopping, when the server said OK ... [THROTTLED] (Gmail). */
  private async paceIfAsked(): Promise<void> {
    const notice = this.notices?.takeSlowDown();
    if (!notice) return;
    const verdict = classify({ kind: 'reply', protocol: 'imap', text: notice.text, ok: true }, { patterns: [] }, { consecutive: 0, now: Date.now() });
    const waitMs = verdict.throttled ? verdict.waitMs : SLOW_DOWN_DEFAULT_MS;
    this.log?.info({ connection: this.connection.name, waitMs, server: notice.text }, 'server asks to slow down ([THROTTLED]): pausing between commands');
    await new Promise((resolve) => setTimeout(resolve, waitMs));
  }

  private get endpoint(): { host: string; port: number } {
    return serverEndpoint(this.connection);
  }

  /** Selects the folder; called once by the source before the session is handed out. */
  async select(): Promise<void> {
    try {
      const mailbox = await this.client.mailboxOpen(this.connection.folder);
      this.uidValidity = String(mailbox.uidValidity);
    } catch (error) {
      throw toImapError(error, this.endpoint, { folder: this.connection.folder, stage: 'open', throttle: this.notices?.latest() });
    }
  }

  private key(uid: number): SourceKey {
    return { protocol: 'imap', folder: this.connection.folder, uidValidity: this.uidValidity, uid };
  }

  async list(cursor: SourceCursor | undefined): Promise<Listing> {
    const known = isImapCursor(cursor) ? cursor : undefined;
    const remap = !!known && known.uidValidity !== this.uidValidity;
    const from = known && !remap ? known.lastUid + 1 : 1;
    try {
      const uids = ((await this.client.search({ seen: false, deleted: false, uid: `${from}:*` }, { uid: true })) || [])
        // "n:*" includes the highest UID even when it is below n (RFC 3501 6.4.8).
        .filter((uid) => uid >= from)
        .sort((a, b) => a - b);
      if (uids.length === 0) return { emails: [], remap };
      const sizes = new Map<number, number>();
      for await (const message of this.client.fetch(uids.join(','), { uid: true, size: true }, { uid: true })) {
        sizes.set(message.uid, message.size ?? 0);
      }
      const emails = uids.map((uid): ListedEmail => {
        const email: ListedEmail = { key: this.key(uid), cursorAfter: { uidValidity: this.uidValidity, lastUid: uid } };
        const size = sizes.get(uid);
        if (size !== undefined) email.size = size;
        return email;
      });
      return { emails, remap };
    } catch (error) {
      throw toImapError(error, this.endpoint, { stage: 'list', throttle: this.notices?.latest() });
    }
  }

  async *fetch(emails: ListedEmail[]): AsyncIterable<FetchResult> {
    const queue = batches(emails);
    let ahead: Promise<FetchedBatch> | undefined;
    for (const [index, batch] of queue.entries()) {
      const first = batch[0]!;
      if (isLarge(batch)) {
        await this.beforeCommand();
        yield await this.download(first);
        continue;
      }
      let fetching = ahead;
      ahead = undefined;
      if (!fetching) {
        await this.beforeCommand();
        fetching = this.fetchBatch(batch);
      }
      const { sources, error } = await fetching;
      // The next batch comes over the network while this one is kept and split.
      const following = queue[index + 1];
      if (!error && following && !isLarge(following)) {
        await this.beforeCommand();
        ahead = this.fetchBatch(following);
      }
      for (const email of batch) {
        const source = sources.get(email.key.uid!);
        if (source) yield { email, content: Readable.from([source]) };
        // Fewer rows than asked is never "done": the missing ones are reported and retried later.
        else if (!error) yield { email, error: new PostroomError('FETCH_FAILED', `UID ${email.key.uid} was not returned by the server`) };
      }
      // The batch broke off (dropped connection, throttling): what arrived is handed over, then stop.
      if (error) throw toImapError(error, this.endpoint, { stage: 'fetch', throttle: this.notices?.latest() });
    }
  }

  /** Before each FETCH: pace if the server asked, and send the acknowledgements queued so far. */
  private async beforeCommand(): Promise<void> {
    await this.paceIfAsked();
    await this.flushAcks();
  }

  /**
   * One pipelined UID FETCH, read to its end by itself (so commands queued behind it never wait
   * on the consumer). Resolves with what arrived, and the error if it broke off.
   */
  private async fetchBatch(batch: ListedEmail[]): Promise<FetchedBatch> {
    const sources = new Map<number, Buffer>();
    try {
      const set = batch.map((email) => email.key.uid).join(',');
      for await (const message of this.client.fetch(set, { uid: true, source: true }, { uid: true })) {
        if (message.source) sources.set(message.uid, message.source);
      }
      return { sources };
    } catch (error) {
      return { sources, error };
    }
  }

  private async download(email: ListedEmail): Promise<FetchResult> {
    try {
      const result = await this.client.download(String(email.key.uid), undefined, { uid: true, chunkSize: DOWNLOAD_CHUNK_BYTES });
      if (!result.content) return { email, error: new PostroomError('FETCH_FAILED', `UID ${email.key.uid} is gone from the server`) };
      return { email, content: result.content };
    } catch (error) {
      throw toImapError(error, this.endpoint, { stage: 'fetch', throttle: this.notices?.latest() });
    }
  }

  async acknowledge(keys: SourceKey[]): Promise<void> {
    for (const key of keys) {
      // A key from an older UIDVALIDITY or another folder names nothing here any more; the
      // re-map acknowledged the email under its new UID.
      if (key.protocol === 'imap' && key.folder === this.connection.folder && key.uidValidity === this.uidValidity && key.uid) {
        this.pendingAcks.push(key.uid);
      }
    }
  }

  private async flushAcks(): Promise<void> {
    while (this.pendingAcks.length) {
      const uids = this.pendingAcks.splice(0, ACK_BATCH);
      const set = uids.join(',');
      try {
        if (this.connection.moveTo) {
          await this.client.messageMove(set, this.connection.moveTo, { uid: true });
        } else if (this.connection.deleteMessages) {
          await this.client.messageDelete(set, { uid: true });
        } else {
          await this.client.messageFlagsAdd(set, ['\\Seen'], { uid: true });
        }
      } catch (error) {
        this.pendingAcks.unshift(...uids);
        throw toImapError(error, this.endpoint, { stage: 'acknowledge', throttle: this.notices?.latest() });
      }
    }
  }

  async close(): Promise<void> {
    try {
      await this.flushAcks();
    } finally {
      try {
        await this.client.logout();
      } catch {
        this.client.close();
      }
    }
  }

  abort(): void {
    this.client.close();
  }
}
