/**
 * What happens between the fetch and the commit of the pickup, for many emails at once:
 *
 *   - up to `ahead` emails are kept and split at the same time, in fetch order, so the parser
 *     and the disk work while the next email comes in over the network;
 *   - split emails gather into a group, committed in ONE transaction (after one wait for all
 *     their fsyncs) once it holds `groupEmails` emails or `groupBytes` of content, and at the end.
 *
 * Nothing is acknowledged here: the commit callback does that after the group's commit, so
 * step 3 of the pickup still follows step 2 for every email. When an email cannot be kept or
 * split, the emails before it are committed and the ones after it are not (the cursor must not
 * pass it); whatever is not committed is discarded (its content files removed) and fetched
 * again next time.
 */
import type { Readable } from 'node:stream';
import { faultPoint } from '../model/fault-points.ts';
import type { ListedEmail } from '../sources/source.ts';
import type { IngestedEmail } from './ingest-email.ts';

export interface IngestPipelineOptions {
  ahead: number;
  groupEmails: number;
  groupBytes: number;
  ingest(email: ListedEmail, content: Readable, bytes: Buffer | undefined): Promise<IngestedEmail>;
  /**
   * Commits a group (in fetch order) and acknowledges what it committed. The group is then no
   * longer the pipeline's: if the commit fails, this removes the group's content itself.
   */
  commit(group: IngestedEmail[]): Promise<void>;
  discard(ingested: IngestedEmail): Promise<void>;
}

export class IngestPipeline {
  private readonly inFlight: Array<Promise<IngestedEmail>> = [];
  private group: IngestedEmail[] = [];
  private groupBytes = 0;

  constructor(private readonly options: IngestPipelineOptions) {}

  /** Pipeline messages held but not committed (an email still being split counts as one). */
  get uncommittedMessages(): number {
    return this.group.reduce((sum, ingested) => sum + ingested.commit.messages.length, 0) + this.inFlight.length;
  }

  /** Nothing is held: a good moment to look at shared state (the account's throttle). */
  get empty(): boolean {
    return this.group.length === 0 && this.inFlight.length === 0;
  }

  /** Starts keeping and splitting one email; waits only when `ahead` emails are already under way. */
  async add(email: ListedEmail, content: Readable, bytes?: Buffer): Promise<void> {
    const ingesting = this.options.ingest(email, content, bytes);
    // Awaited in order later; until then a failure must not count as unhandled.
    ingesting.catch(() => undefined);
    this.inFlight.push(ingesting);
    if (this.inFlight.length >= this.options.ahead) await this.takeOldest();
  }

  /** Adds an email already judged and built (left out by the filter before its download), in its place in the order. */
  async addReady(ingested: IngestedEmail): Promise<void> {
    this.inFlight.push(Promise.resolve(ingested));
    if (this.inFlight.length >= this.options.ahead) await this.takeOldest();
  }

  /** Waits for every email under way and commits what is held. */
  async flush(): Promise<void> {
    while (this.inFlight.length) await this.takeOldest();
    await this.commitGroup();
  }

  /** After a failure: waits for the emails under way and removes the content of all uncommitted ones. */
  async abandon(): Promise<void> {
    const settled = await Promise.allSettled(this.inFlight.splice(0));
    const held = [...this.group, ...settled.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []))];
    this.group = [];
    this.groupBytes = 0;
    await Promise.all(held.map((ingested) => this.options.discard(ingested)));
  }

  private async takeOldest(): Promise<void> {
    let ingested: IngestedEmail;
    try {
      ingested = await this.inFlight[0]!;
    } catch (error) {
      this.inFlight.shift();
      // What came before it is whole: commit that; what came after waits for the next run.
      await this.commitGroup();
      await this.abandon();
      throw error;
    }
    this.inFlight.shift();
    this.group.push(ingested);
    this.groupBytes += ingested.raw.size;
    faultPoint('after-fetch');
    if (this.group.length >= this.options.groupEmails || this.groupBytes >= this.options.groupBytes) await this.commitGroup();
  }

  /** Commits the group held so far (not the emails still under way). */
  async commitGroup(): Promise<void> {
    const ready = this.group;
    this.group = [];
    this.groupBytes = 0;
    if (ready.length) await this.options.commit(ready);
  }
}
