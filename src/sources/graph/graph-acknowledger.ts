/**
 * Acknowledging emails on Graph (mark read, move or delete, as the connection says) in JSON
 * $batch requests of up to 20 (https://learn.microsoft.com/en-us/graph/json-batching). The
 * envelope's 200 says nothing about the requests in it, so each answer is checked on its own:
 *
 * - 2xx, or 404 (someone deleted or moved it out already): done;
 * - 429 MailboxConcurrency: sent again in a new batch once one of our requests has ended;
 * - 429 / 503 with Retry-After (time-based throttling): the mailbox gate holds every request for
 *   that long and the session ends throttled; the email stays committed and unacknowledged in
 *   the ledger, and the next run acknowledges it first, after the wait
 *   (https://learn.microsoft.com/en-us/graph/throttling#throttling-and-batching);
 * - anything else: the session fails with that answer, and the next run tries again.
 *
 * Emails are sent 20 at a time as they are committed, in the background (bounded by the gate),
 * while the next ones download; settle() sends the rest and waits for every answer.
 */
import { PostroomError } from '../../model/errors.ts';
import type { BatchAnswer, BatchItem, GraphClient } from './graph-client.ts';
import { GRAPH_BATCH_LIMIT } from './graph-client.ts';
import { graphError, isMailboxConcurrency } from './graph-errors.ts';

/** Rounds of re-sending after MailboxConcurrency before the mailbox is taken as throttled. */
const CONCURRENCY_ROUNDS = 3;
const CONCURRENCY_FALLBACK_MS = 1_000;

export type Acknowledgement = (id: string) => Omit<BatchItem, 'id'>;

export class GraphAcknowledger {
  private buffer: string[] = [];
  /** Ids acknowledged otherwise than the default operation (emails a filter did not take). */
  private readonly operations = new Map<string, Acknowledgement>();
  private readonly sending = new Set<Promise<void>>();
  private readonly confirmed: string[] = [];
  private failure: PostroomError | undefined;
  private throttle: PostroomError | undefined;
  private stopped = false;

  constructor(
    private readonly client: GraphClient,
    private readonly operation: Acknowledgement,
    private readonly what: string,
  ) {}

  /** Ids the server has confirmed (or found already gone). */
  get done(): readonly string[] {
    return this.confirmed;
  }

  add(id: string, operation?: Acknowledgement): void {
    if (this.stopped) return;
    if (operation) this.operations.set(id, operation);
    this.buffer.push(id);
    if (this.buffer.length >= GRAPH_BATCH_LIMIT) this.flush();
  }

  /** Sends what is buffered, and waits for every batch; throws a throttle or a failure seen on the way. */
  async settle(): Promise<void> {
    this.flush();
    while (this.sending.size) await Promise.all([...this.sending]);
    if (this.throttle) throw this.throttle;
    if (this.failure) throw this.failure;
  }

  /** The session is dropped: nothing more is sent; answers still on their way are kept. */
  stop(): void {
    this.stopped = true;
    this.buffer = [];
  }

  private flush(): void {
    if (!this.buffer.length || this.stopped) return;
    const ids = this.buffer;
    this.buffer = [];
    const sent = this.send(ids, 0).catch((error: unknown) => this.fail(error));
    this.sending.add(sent);
    void sent.finally(() => this.sending.delete(sent));
  }

  private fail(error: unknown): void {
    const failure = error instanceof PostroomError ? error : new PostroomError('PROTOCOL_ERROR', `acknowledging on Graph: ${String(error)}`, { cause: error });
    if (failure.throttling) this.throttle = longest(this.throttle, failure);
    else this.failure ??= failure;
  }

  private async send(ids: string[], round: number): Promise<void> {
    if (this.stopped || this.throttle) return;
    const items = ids.map((id, index) => ({ id: String(index + 1), ...(this.operations.get(id) ?? this.operation)(id) }));
    const answers = await this.client.batch(items, `a batch of ${ids.length} acknowledgement(s) for ${this.what}`);
    const crowded: string[] = [];
    ids.forEach((id, index) => {
      const answer: BatchAnswer | undefined = answers.get(String(index + 1));
      if (!answer) {
        this.fail(new PostroomError('PROTOCOL_ERROR', `Graph's $batch answer has no response for the acknowledgement of message ${id.slice(-12)}`));
        return;
      }
      if ((answer.status >= 200 && answer.status < 300) || answer.status === 404) {
        this.confirmed.push(id);
        return;
      }
      const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body ?? '');
      if (isMailboxConcurrency(answer.status, text)) {
        crowded.push(id);
        return;
      }
      // Throttled: its own Retry-After already holds every request to the mailbox (the client's
      // batch put it on the gate before giving the batch's places back); the next run sends this
      // one again (it is still unacknowledged in the ledger).
      this.fail(graphError(answer.status, answer.headers, text, 'acknowledge', `message ${id.slice(-12)}`, Date.now()));
    });
    if (!crowded.length) return;
    if (round + 1 >= CONCURRENCY_ROUNDS) {
      this.fail(new PostroomError('THROTTLED', `Graph kept answering MailboxConcurrency for ${this.what}`, { retryAfterMs: CONCURRENCY_FALLBACK_MS }));
      return;
    }
    await this.client.gate.ownRequestFinished(CONCURRENCY_FALLBACK_MS);
    await this.send(crowded, round + 1);
  }
}

/** Of two throttles, the one that asks to wait longer (all failed ones are retried after the longest). */
function longest(a: PostroomError | undefined, b: PostroomError): PostroomError {
  if (!a) return b;
  return (b.retryAfterMs ?? 0) > (a.retryAfterMs ?? 0) ? b : a;
}
