/**
 * One pickup from a Graph mail folder, one page at a time. list() asks for the oldest page of
 * unread messages (`$top` 1000, Graph's largest; `$select=id`, plus the fields a filter is judged
 * on before the download, listing-fields.ts) and says whether more are waiting; the engine fetches, commits and acknowledges that page, then lists
 * again. The unread filter itself is the position: every acknowledged email leaves it, so the
 * next listing starts where this one ended, and a throttle, a crash or a lease handover costs at
 * most the page in hand. (An old `@odata.nextLink` would be wrong here: it pages by `$skip`, and
 * marking messages read shifts what the offset points at.)
 *
 * The key is the immutable message id. Fetching streams `$value` (the MIME, byte for byte).
 * Acknowledging marks the message read, deletes it or moves it, in $batch requests of up to 20
 * (graph-acknowledger.ts) while the next emails download; close() waits for every answer, so
 * an acknowledgement is durable once close() resolves.
 */
import type { GraphConnectionConfig } from '../../config/schema.ts';
import { isPostroomError, PostroomError } from '../../model/errors.ts';
import type { FetchResult, ListedEmail, Listing, SourceCursor, SourceKey, SourceSession, Treatment } from '../source.ts';
import { type Acknowledgement, GraphAcknowledger } from './graph-acknowledger.ts';
import type { GraphClient, GraphPage } from './graph-client.ts';
import { type ListedMessage, listingFields, messageFacts } from './listing-fields.ts';

/** Graph's largest page for messages (user-list-messages: `$top` 1 to 1000). */
export const PAGE_SIZE = 1000;

/**
 * Unread, oldest first. Graph only sorts a filtered list when every `$orderby` property leads
 * the `$filter` (else InefficientFilter), hence the always-true date condition in front.
 */
const UNREAD_OLDEST_FIRST = `$filter=${encodeURIComponent('receivedDateTime ge 1900-01-01T00:00:00Z and isRead eq false')}&$orderby=${encodeURIComponent('receivedDateTime asc')}`;

/** Errors that say the mailbox as a whole cannot be read now: the run stops instead of going on to the next email. */
function stopsTheRun(error: unknown): boolean {
  return isPostroomError(error) && (error.throttling || error.code !== 'FETCH_FAILED');
}

export class GraphSession implements SourceSession {
  private readonly acks: GraphAcknowledger;
  private readonly keys = new Map<string, SourceKey>();
  private aborted = false;

  constructor(
    private readonly client: GraphClient,
    private readonly connection: GraphConnectionConfig,
    /** The folder's id, or its well-known name. */
    private readonly folderRef: string,
    moveToRef: string | undefined,
    /** Called when listing fails for another reason than throttling: a remembered folder id may be stale. */
    private readonly onListFailed: () => void = () => undefined,
    /** The folder `filtered: { moveTo }` names, resolved. */
    private readonly filteredMoveToRef?: string,
  ) {
    const acknowledgement: Acknowledgement = moveToRef
      ? (id) => ({ method: 'POST', path: `messages/${encodeURIComponent(id)}/move`, json: { destinationId: moveToRef } })
      : connection.deleteMessages
        ? (id) => ({ method: 'DELETE', path: `messages/${encodeURIComponent(id)}` })
        : (id) => ({ method: 'PATCH', path: `messages/${encodeURIComponent(id)}`, json: { isRead: true } });
    this.acks = new GraphAcknowledger(client, acknowledgement, `${connection.mailbox}`);
    this.judgedFields = listingFields(connection.filter);
  }

  /** The fields the filter is judged on before the download (listing-fields.ts); none without a filter. */
  private readonly judgedFields: string[];

  /** The page after the last one listed, when Graph said there is one. */
  private nextLink: string | undefined;

  async list(_cursor: SourceCursor | undefined): Promise<Listing> {
    // Acknowledgements sent before listing (left over from an earlier run) must have taken
    // effect, or the listing would show those emails again.
    await this.acks.settle();
    const select = ['id', ...this.judgedFields].join(',');
    return this.listPage(`mailFolders/${encodeURIComponent(this.folderRef)}/messages?${UNREAD_OLDEST_FIRST}&$select=${select}&$top=${PAGE_SIZE}&$count=true`);
  }

  /**
   * Emails a filter left alone stay unread at the head of the listing: when a whole page is such
   * emails, the engine reads on here, a page further, instead of listing the same page again.
   */
  async listFurther(): Promise<Listing | undefined> {
    if (!this.nextLink) return undefined;
    // Graph's nextLink is an absolute URL on the endpoint, which the client takes as it is.
    return this.listPage(this.nextLink);
  }

  private async listPage(path: string): Promise<Listing> {
    const page = await this.client
      .json<GraphPage<ListedMessage> & { '@odata.count'?: number }>({
        method: 'GET',
        path,
        stage: 'list',
        what: `folder "${this.connection.folder}" of ${this.connection.mailbox}`,
      })
      .catch((error: unknown) => {
        if (!isPostroomError(error) || !error.throttling) this.onListFailed();
        throw error;
      });
    const seen = new Set<string>();
    const emails: ListedEmail[] = [];
    for (const message of page?.value ?? []) {
      if (typeof message.id !== 'string' || message.id === '' || seen.has(message.id)) continue;
      seen.add(message.id);
      const email: ListedEmail = { key: { protocol: 'graph', folder: this.connection.folder, graphId: message.id } };
      if (this.judgedFields.length) email.head = { facts: messageFacts(message) };
      emails.push(email);
    }
    const backlog = page?.['@odata.count'];
    this.nextLink = typeof page?.['@odata.nextLink'] === 'string' ? page['@odata.nextLink'] : undefined;
    return {
      emails,
      remap: false,
      more: typeof page?.['@odata.nextLink'] === 'string' && emails.length > 0,
      ...(typeof backlog === 'number' ? { backlog } : {}),
    };
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

  async acknowledge(keys: SourceKey[], treatment?: Treatment): Promise<void> {
    const operation = treatment ? this.operationOf(treatment) : undefined;
    for (const key of keys) {
      // Immutable ids name the message wherever it is in the mailbox, so any graph key is acknowledged.
      if (key.protocol !== 'graph' || !key.graphId) continue;
      this.keys.set(key.graphId, key);
      this.acks.add(key.graphId, operation);
    }
  }

  /** The request that treats an email the filter did not take. */
  private operationOf(treatment: Treatment): Acknowledgement {
    if (treatment.kind === 'moveTo') {
      const ref = this.filteredMoveToRef ?? treatment.folder;
      return (id) => ({ method: 'POST', path: `messages/${encodeURIComponent(id)}/move`, json: { destinationId: ref } });
    }
    if (treatment.kind === 'delete') return (id) => ({ method: 'DELETE', path: `messages/${encodeURIComponent(id)}` });
    return (id) => ({ method: 'PATCH', path: `messages/${encodeURIComponent(id)}`, json: { isRead: true } });
  }

  acknowledgedSoFar(from = 0): SourceKey[] {
    return this.acks.done
      .slice(from)
      .map((id) => this.keys.get(id))
      .filter((key): key is SourceKey => key !== undefined);
  }

  async close(): Promise<void> {
    try {
      await this.acks.settle();
    } finally {
      await this.client.budget.release();
    }
  }

  abort(): void {
    this.aborted = true;
    this.acks.stop();
    // Best effort: a count left a few requests ahead only errs on the safe side.
    this.client.budget.release().catch(() => undefined);
  }
}
