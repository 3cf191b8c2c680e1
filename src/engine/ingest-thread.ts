/**
 * What a parse thread runs (engine/parse-threads.ts): keeps and splits one email that arrived
 * whole, exactly as the main thread would (engine/ingest-email.ts), into the same content
 * directory. The content files stay open for the group's fsync; their descriptors are handed
 * to the main thread's store with the answer (descriptors belong to the process, not a thread).
 */
import type { ContentStore } from '../model/content-store.ts';
import type { ListedEmail } from '../sources/source.ts';
import { createFsContentStore } from '../store/content/fs-content-store.ts';
import { contentRefs, type IngestedEmail, type IngestSettings, ingestEmail } from './ingest-email.ts';
import { type ErrorData, errorToData } from './thread-errors.ts';

export interface IngestTask {
  connection: IngestSettings;
  /** Only what keeping and splitting reads: key, size, fingerprint, cursor. */
  email: ListedEmail;
  bytes: Uint8Array;
  now: number;
  root: string;
}

export type IngestAnswer = { ingested: IngestedEmail; open: Array<[string, number]> } | { error: ErrorData };

const stores = new Map<string, ContentStore>();

export default async function ingestOnThread(task: IngestTask): Promise<IngestAnswer> {
  let contents = stores.get(task.root);
  if (!contents) stores.set(task.root, (contents = createFsContentStore(task.root, { pack: false })));
  const bytes = Buffer.from(task.bytes.buffer, task.bytes.byteOffset, task.bytes.byteLength);
  try {
    const ingested = await ingestEmail(task.connection, task.email, bytes, contents, task.now);
    return { ingested, open: contents.handOver!(contentRefs(ingested)) };
  } catch (error) {
    return { error: errorToData(error) };
  }
}
