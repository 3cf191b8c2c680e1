/**
 * One IMAP session over one selected folder. The cursor is the UID within a UIDVALIDITY:
 * listing asks for unseen, undeleted messages in `lastUid+1:*`, never by date or UNSEEN alone.
 *
 * With a filter, and `filtered: leave`, the server's SEARCH pre-selects (server-search.ts): a
 * listed UID a condition's key does not find is listed as left out by the server, and nothing of
 * it is read, not even its headers; the others are judged by Postroom as before.
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
import type { ImapConnectionConfig } from '../../config/schema.ts';
import { PostroomError } from '../../model/errors.ts';
import { isRescanCursor } from '../../model/source-key.ts';
import { classify } from '../../throttle/classify.ts';
import type { FetchResult, ListedEmail, Listing, SourceCursor, SourceKey, SourceSession, Treatment } from '../source.ts';
import { serverEndpoint } from '../source-kit.ts';
import { toImapError } from './imap-errors.ts';
import { structureAttachments } from './imap-structure.ts';
import type { ThrottleNotices } from './imap-throttle-notices.ts';
import { preSelect, type ServerVerdicts } from './pre-selection.ts';
import { serverSearchPlan } from './server-search.ts';
import { uidSet, uidSets } from './uid-set.ts';

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
/**
 * New emails one listing takes at most: a 100,000-email backlog is 20 pages, each listed from
 * the cursor with one UID SEARCH, so a poll holds a page's listing, not the folder's.
 */
const LIST_PAGE_EMAILS = 5_000;

/** Warnings already given in this process, so a server's standing fault is said once, not every poll. */
const warned = new Set<string>();

function warnOnce(log: Logger | undefined, key: string, fields: Record<string, unknown>, message: string): void {
  if (warned.has(key)) return;
  warned.add(key);
  log?.warn(fields, message);
}

export interface ImapCursor extends SourceCursor {
  uidValidity: string;
  lastUid: number;
  /**
   * After `postroom rescan`: up to this UID every email is judged by Postroom itself, without the
   * server's search pre-selecting, until the cursor has passed it (a rescan of a backlog spans pages).
   */
  judgeAllThrough?: number;
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
  private readonly pendingAcks: Array<{ uid: number; treatment: Treatment | undefined }> = [];
  /** UIDs the server confirmed acknowledged in this session. */
  private readonly confirmed: number[] = [];
  private refused = 0;
  private refusedWords: string | undefined;

  constructor(
    private readonly client: ImapFlow,
    private readonly connection: ImapConnectionConfig,
    private readonly notices?: ThrottleNotices,
    private readonly log?: Logger,
  ) {}

  /** A failure of this session in Postroom's catalogue. */
  private failure(error: unknown, stage: 'open' | 'list' | 'fetch' | 'acknowledge'): PostroomError {
    return toImapError(error, this.endpoint, { folder: this.connection.folder, stage, throttle: this.notices?.latest() });
  }

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
      throw this.failure(error, 'open');
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
      const searched = await this.client.search({ seen: false, deleted: false, uid: `${from}:*` }, { uid: true });
      let uids = (searched || [])
        // "n:*" includes the highest UID even when it is below n (RFC 3501 6.4.8).
        .filter((uid) => uid >= from)
        .sort((a, b) => a - b);
      const sizes = new Map<number, number>();
      const heads = new Map<number, NonNullable<ListedEmail['head']>>();
      const checked = await this.crossChecked(uids, searched === false, from, sizes);
      if (checked) uids = checked;
      if (uids.length === 0) return { emails: [], remap };
      const judgeAllThrough = isRescanCursor(cursor) ? uids[uids.length - 1]! : known && !remap ? (known.judgeAllThrough ?? 0) : 0;
      // A large backlog is taken a page at a time (the engine lists again from the cursor once a
      // page is committed and acknowledged), so what a poll holds does not grow with the folder.
      // Not after a UIDVALIDITY change: every email must be matched against the old keys in one
      // listing, since the next page's cursor would carry the new UIDVALIDITY.
      const backlog = uids.length;
      const more = !remap && uids.length > LIST_PAGE_EMAILS;
      if (more) uids = uids.slice(0, LIST_PAGE_EMAILS);
      // Not when SEARCH was found wrong (checked), nor for the emails a rescan judges again.
      const verdicts: ServerVerdicts = checked ? new Map() : await this.preSelected(uids.filter((uid) => uid > judgeAllThrough));
      // With a filter, the headers and the structure come with the sizes, so an email the
      // filter leaves out is never downloaded (BODY.PEEK: nothing is marked seen).
      const filtering = !!this.connection.filter;
      if (!checked || filtering) await this.readHeads(verdicts.size ? uids.filter((uid) => !verdicts.has(uid)) : uids, filtering, sizes, heads);
      const emails = uids.map((uid): ListedEmail => {
        const cursorAfter: ImapCursor = { uidValidity: this.uidValidity, lastUid: uid, ...(uid < judgeAllThrough ? { judgeAllThrough } : {}) };
        const email: ListedEmail = { key: this.key(uid), cursorAfter };
        const size = sizes.get(uid);
        if (size !== undefined) email.size = size;
        const head = heads.get(uid);
        if (head) email.head = head;
        const verdict = verdicts.get(uid);
        if (verdict) email.leftByServer = verdict;
        return email;
      });
      return { emails, remap, ...(more ? { more, backlog } : {}) };
    } catch (error) {
      throw this.failure(error, 'list');
    }
  }

  /** The sizes, and with a filter the headers and structure, of `uids` (ascending), into the maps. */
  private async readHeads(
    uids: readonly number[],
    filtering: boolean,
    sizes: Map<number, number>,
    heads: Map<number, NonNullable<ListedEmail['head']>>,
  ): Promise<void> {
    const query = filtering ? { uid: true, size: true, headers: true, bodyStructure: true } : { uid: true, size: true };
    for (const set of uidSets(uids)) {
      for await (const message of this.client.fetch(set, query, { uid: true })) {
        sizes.set(message.uid, message.size ?? 0);
        if (filtering && message.headers) {
          heads.set(message.uid, { headers: message.headers, attachments: message.bodyStructure ? structureAttachments(message.bodyStructure) : [] });
        }
      }
    }
  }

  /** Which of `uids` (ascending) the server's search leaves out, when the connection pre-selects there. */
  private async preSelected(uids: number[]): Promise<ServerVerdicts> {
    const { searches } = serverSearchPlan(this.connection);
    const verdicts = await preSelect(this.client, searches, uids, (search) =>
      warnOnce(
        this.log,
        `pre-select:${this.connection.username}@${this.connection.host}:${this.connection.port}/${this.connection.folder}:${search.keys}`,
        // The session's logger already carries the connection's name.
        { search: search.keys },
        `the server refused UID SEARCH ${search.keys}: judging every new email on its headers instead of pre-selecting on the server; set filterOnServer: false on the connection if this server cannot search`,
      ),
    );
    if (verdicts.size)
      this.log?.debug({ listed: uids.length, leftByServer: verdicts.size }, "the server's search left emails out before their headers were read");
    return verdicts;
  }

  async headsOf(emails: ListedEmail[]): Promise<ListedEmail[]> {
    const sizes = new Map<number, number>();
    const heads = new Map<number, NonNullable<ListedEmail['head']>>();
    try {
      await this.readHeads(
        emails.map((email) => email.key.uid!).sort((a, b) => a - b),
        true,
        sizes,
        heads,
      );
    } catch (error) {
      throw this.failure(error, 'list');
    }
    return emails.map((email) => {
      const uid = email.key.uid!;
      const size = sizes.get(uid);
      const head = heads.get(uid);
      return { ...email, ...(size !== undefined ? { size } : {}), ...(head ? { head } : {}) };
    });
  }

  /**
   * The search checked against the server's own count: when SEARCH found fewer emails than
   * STATUS counts unseen (GNU Mailutils imap4d answers `UID SEARCH UNSEEN UNDELETED UID 1:*`
   * with nothing while STATUS says 200 unseen), or refused the search, the folder is listed with
   * `UID FETCH n:* (UID FLAGS RFC822.SIZE)` and the flags read here. Resolves with that listing
   * (sizes filled in) when it found more than the search did, else undefined: fewer found is
   * legitimate when the unseen ones are \Deleted or before the cursor.
   */
  private async crossChecked(uids: number[], refused: boolean, from: number, sizes: Map<number, number>): Promise<number[] | undefined> {
    if (!refused) {
      const status = await this.client.status(this.connection.folder, { unseen: true }).catch(() => undefined);
      if (!status || status.unseen === undefined || uids.length >= status.unseen) return undefined;
    }
    const listed: number[] = [];
    for await (const message of this.client.fetch(`${from}:*`, { uid: true, flags: true, size: true }, { uid: true })) {
      if (message.uid < from || message.flags?.has('\\Seen') || message.flags?.has('\\Deleted')) continue;
      listed.push(message.uid);
      sizes.set(message.uid, message.size ?? 0);
    }
    if (listed.length <= uids.length) return undefined;
    listed.sort((a, b) => a - b);
    warnOnce(
      this.log,
      `search:${this.connection.username}@${this.connection.host}:${this.connection.port}/${this.connection.folder}`,
      {
        connection: this.connection.name,
        searched: refused ? 'refused' : uids.length,
        listed: listed.length,
      },
      refused
        ? `the server refused UID SEARCH (a server fault): listing "${this.connection.folder}" with UID FETCH ${from}:* (UID FLAGS) instead`
        : `the server's SEARCH found ${uids.length} new email(s) but UID FETCH ${from}:* (UID FLAGS) finds ${listed.length} unseen (a server fault: its SEARCH disagrees with its own STATUS count): listing "${this.connection.folder}" that way instead`,
    );
    return listed;
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
      const missing = error ? [] : batch.filter((email) => !sources.has(email.key.uid!)).map((email) => email.key.uid!);
      const gone = missing.length ? await this.goneOf(missing) : new Set<number>();
      for (const email of batch) {
        const source = sources.get(email.key.uid!);
        if (source) yield { email, content: Readable.from([source]), bytes: source };
        else if (gone.has(email.key.uid!))
          yield {
            email,
            gone: true,
            error: new PostroomError('FETCH_FAILED', `UID ${email.key.uid} was expunged from "${this.connection.folder}" after it was listed`),
          };
        // Fewer rows than asked is never "done": the missing ones are reported and retried later.
        else if (!error) yield { email, error: new PostroomError('FETCH_FAILED', `UID ${email.key.uid} was not returned by the server`) };
      }
      // The batch broke off (dropped connection, throttling): what arrived is handed over, then stop.
      if (error) throw this.failure(error, 'fetch');
    }
  }

  /**
   * Which of the UIDs a FETCH did not return the folder no longer holds (another client expunged
   * them after the listing). Asked with UID FETCH, not SEARCH, which some servers get wrong.
   */
  private async goneOf(uids: number[]): Promise<Set<number>> {
    const present = new Set<number>();
    try {
      for await (const message of this.client.fetch(uidSet(uids), { uid: true }, { uid: true })) present.add(message.uid);
    } catch {
      return new Set();
    }
    return new Set(uids.filter((uid) => !present.has(uid)));
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
      const set = uidSet(batch.map((email) => email.key.uid!));
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
      if (!result.content) return { email, gone: true, error: new PostroomError('FETCH_FAILED', `UID ${email.key.uid} is gone from the server`) };
      return { email, content: result.content };
    } catch (error) {
      throw this.failure(error, 'fetch');
    }
  }

  async acknowledge(keys: SourceKey[], treatment?: Treatment): Promise<void> {
    for (const key of keys) {
      // A key from an older UIDVALIDITY or another folder names nothing here any more; the
      // re-map acknowledged the email under its new UID.
      if (key.protocol === 'imap' && key.folder === this.connection.folder && key.uidValidity === this.uidValidity && key.uid) {
        this.pendingAcks.push({ uid: key.uid, treatment });
      }
    }
  }

  /** What one acknowledgement does: the treatment of an email not taken, else what the connection says. */
  private operationOf(treatment: Treatment | undefined): Treatment {
    if (treatment) return treatment;
    if (this.connection.moveTo) return { kind: 'moveTo', folder: this.connection.moveTo };
    return this.connection.deleteMessages ? { kind: 'delete' } : { kind: 'markRead' };
  }

  /**
   * Sends the queued acknowledgements, one command per run of them that do the same thing.
   * imapflow answers a refused MOVE/COPY, STORE or EXPUNGE with `false` instead of throwing, so
   * every result is checked: a refused batch is kept aside (its emails stay pending in the
   * ledger and the next poll tries them again) and close() fails with the server's words, after
   * the rest of the run has gone on.
   */
  private async flushAcks(): Promise<void> {
    while (this.pendingAcks.length) {
      const first = JSON.stringify(this.operationOf(this.pendingAcks[0]!.treatment));
      let count = 0;
      while (count < this.pendingAcks.length && count < ACK_BATCH && JSON.stringify(this.operationOf(this.pendingAcks[count]!.treatment)) === first) count += 1;
      const taken = this.pendingAcks.splice(0, count);
      const operation = this.operationOf(taken[0]!.treatment);
      const uids = taken.map((ack) => ack.uid);
      const set = uidSet(uids);
      this.notices?.takeRefusal();
      let done: boolean;
      try {
        done = await this.sendAck(set, operation);
      } catch (error) {
        this.pendingAcks.unshift(...taken);
        throw this.failure(error, 'acknowledge');
      }
      if (done) this.confirmed.push(...uids);
      else this.refuse(uids, this.notices?.takeRefusal()?.text);
    }
  }

  /** One acknowledgement command; false when the server refused it. */
  private async sendAck(set: string, operation: Treatment): Promise<boolean> {
    if (operation.kind === 'moveTo') {
      // Without MOVE imapflow copies, then expunges; without UIDPLUS too that EXPUNGE would not be by UID.
      if (this.client.capabilities.has('MOVE') || this.client.capabilities.has('UIDPLUS')) {
        return !!(await this.client.messageMove(set, operation.folder, { uid: true }));
      }
      return !!(await this.client.messageCopy(set, operation.folder, { uid: true })) && this.deleteOnly(set);
    }
    if (operation.kind === 'delete') return this.deleteOnly(set);
    return !!(await this.client.messageFlagsAdd(set, ['\\Seen'], { uid: true }));
  }

  /**
   * Without UIDPLUS there is no UID EXPUNGE, and a plain EXPUNGE would also remove every email
   * another client had flagged \Deleted: the emails are flagged \Seen and \Deleted and left
   * for the server (or the next client that expunges) to remove (README "deleteMessages").
   */
  private async deleteOnly(set: string): Promise<boolean> {
    if (this.client.capabilities.has('UIDPLUS')) return !!(await this.client.messageDelete(set, { uid: true }));
    return !!(await this.client.messageFlagsAdd(set, ['\\Seen', '\\Deleted'], { uid: true }));
  }

  private refuse(uids: number[], words: string | undefined): void {
    this.refused += uids.length;
    this.refusedWords ??= words ?? 'no reason given';
    this.log?.warn(
      { connection: this.connection.name, uids: uids.length, server: words },
      'the server refused to acknowledge emails already delivered: they stay pending and are tried again next poll',
    );
  }

  /** The refusals of this session as one error, or undefined when there were none. */
  private refusalError(): PostroomError | undefined {
    if (!this.refused) return undefined;
    const what = this.connection.moveTo ? `move them to "${this.connection.moveTo}"` : this.connection.deleteMessages ? 'delete them' : 'mark them \\Seen';
    const hint = this.connection.moveTo
      ? `Check that the moveTo folder "${this.connection.moveTo}" exists (\`postroom check\` tests it, and says how to create it).`
      : 'The emails were delivered; they stay unacknowledged and are tried again each poll, never delivered twice.';
    return new PostroomError('ACK_REFUSED', `${this.refused} email(s) already delivered: the server would not ${what}: "${this.refusedWords}"`, {
      serverResponse: this.refusedWords ?? '',
      hint,
    });
  }

  acknowledgedSoFar(from = 0): SourceKey[] {
    return this.confirmed.slice(from).map((uid) => this.key(uid));
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
    const refused = this.refusalError();
    if (refused) throw refused;
  }

  abort(): void {
    this.client.close();
  }
}
