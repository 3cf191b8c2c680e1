/**
 * One pickup from a Graph mail folder. Listing asks for the unread messages (`isRead eq false`),
 * only the fields it needs, 100 a page; the key is the immutable message id. Fetching streams
 * `$value` (the MIME, byte for byte). Acknowledging marks the message read, deletes it or moves
 * it, in the background (bounded by the mailbox gate) while the next email downloads; close()
 * waits for every acknowledgement, so an acknowledgement is durable once close() resolves.
 */
import type { GraphConnectionConfig } from '../../config/schema.ts';
import { PostroomError, isPostroomError } from '../../model/errors.ts';
import type { FetchResult, ListedEmail, Listing, SourceCursor, SourceKey, SourceSession } from '../source.ts';
import type { GraphClient } from './graph-client.ts';

/** Graph's page size limit for messages is 1000; 100 keeps each page small and is the documented example. */
const PAGE_SIZE = 100;

/**
 * Emails listed per poll at most (100 pages). More stay unread on the server and are listed by the
 * next poll, so a mailbox with a huge backlog starts delivering after a bounded listing.
 */
const MAX_LISTED_PER_POLL = 10_000;

interface ListedMessage {
  id: string;
  internetMessageId?: string;
  receivedDateTime?: string;
}

/** Errors that say the mailbox as a whole cannot be read now: the run stops instead of going on to the next email. */
function stopsTheRun(error: unknown): boolean {
  return isPostroomError(error) && (error.throttling || error.code !== 'FETCH_FAILED');
}

export class GraphSession implements SourceSession {
  private readonly acks = new Set<Promise<void>>();
  private readonly ackErrors: unknown[] = [];
  private aborted = false;

  constructor(
    private readonly client: GraphClient,
    private readonly connection: GraphConnectionConfig,
    /** The folder's id, or its well-known name. */
    private readonly folderRef: string,
    private readonly moveToRef: string | undefined,
  ) {}

  async list(_cursor: SourceCursor | undefined): Promise<Listing> {
    const filter = encodeURIComponent('isRead eq false');
    const messages = await this.client.collect<ListedMessage>(
      {
        method: 'GET',
        path: `mailFolders/${encodeURIComponent(this.folderRef)}/messages?$filter=${filter}&$select=id,internetMessageId,receivedDateTime&$top=${PAGE_SIZE}`,
        stage: 'list',
        what: `folder "${this.connection.folder}" of ${this.connection.mailbox}`,
      },
      MAX_LISTED_PER_POLL,
    );
    // Oldest first, as the IMAP source does by UID (Graph's default order is newest first).
    const sorted = messages
      .filter((message) => typeof message.id === 'string' && message.id !== '')
      .sort((a, b) => (a.receivedDateTime ?? '').localeCompare(b.receivedDateTime ?? '') || a.id.localeCompare(b.id));
    const seen = new Set<string>();
    const emails: ListedEmail[] = [];
    for (const message of sorted) {
      // Paging by $skip can show a message twice when the folder changes between pages.
      if (seen.has(message.id)) continue;
      seen.add(message.id);
      emails.push({ key: { protocol: 'graph', folder: this.connection.folder, graphId: message.id } });
    }
    return { emails, remap: false };
  }

  async *fetch(emails: ListedEmail[]): AsyncIterable<FetchResult> {
    for (const email of emails) {
      if (this.aborted) return;
      const id = email.key.graphId ?? '';
      try {
        const content = await this.client.download(`messages/${encodeURIComponent(id)}/$value`, `message ${id.slice(-12)}`);
        yield { email, content };
      } catch (error) {
        if (stopsTheRun(error)) throw error;
        yield { email, error: error instanceof Error ? error : new PostroomError('FETCH_FAILED', String(error)) };
      }
    }
  }

  async acknowledge(keys: SourceKey[]): Promise<void> {
    for (const key of keys) {
      // Immutable ids name the message wherever it is in the mailbox, so any graph key is acknowledged.
      if (key.protocol !== 'graph' || !key.graphId) continue;
      const ack = this.acknowledgeOne(key.graphId).catch((error: unknown) => {
        this.ackErrors.push(error);
      });
      this.acks.add(ack);
      void ack.finally(() => this.acks.delete(ack));
    }
  }

  private async acknowledgeOne(id: string): Promise<void> {
    const path = `messages/${encodeURIComponent(id)}`;
    const what = `message ${id.slice(-12)}`;
    // A message already gone (deleted or moved away by someone else, or by an earlier run) needs nothing more.
    const common = { stage: 'acknowledge', what, missingIsDone: true } as const;
    if (this.moveToRef) {
      await this.client.json({ ...common, method: 'POST', path: `${path}/move`, json: { destinationId: this.moveToRef } });
    } else if (this.connection.deleteMessages) {
      await this.client.json({ ...common, method: 'DELETE', path });
    } else {
      await this.client.json({ ...common, method: 'PATCH', path, json: { isRead: true } });
    }
  }

  async close(): Promise<void> {
    while (this.acks.size) await Promise.all([...this.acks]);
    if (this.ackErrors.length) throw this.ackErrors[0];
  }

  abort(): void {
    this.aborted = true;
  }
}
