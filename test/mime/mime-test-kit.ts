/**
 * Shared by the test/mime tests: a throw-away content store and one-call splitting.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { type SplitOptions, type SplitResult, splitEmail } from '../../src/mime/split-email.ts';
import type { ContentStore } from '../../src/model/content-store.ts';
import { createFsContentStore } from '../../src/store/content/fs-content-store.ts';

export const ALL_ON: SplitOptions = Object.freeze({ sendMessageBody: true, sendAttachments: true });

export interface TempStore {
  dir: string;
  content: ContentStore;
  /** Content files present (temporary files excluded). */
  files(): Promise<string[]>;
  dispose(): Promise<void>;
}

export async function tempStore(): Promise<TempStore> {
  const dir = await mkdtemp(join(tmpdir(), 'postroom-mime-'));
  return {
    dir,
    content: createFsContentStore(dir),
    async files() {
      const shards = await readdir(dir);
      const nested = await Promise.all(shards.map(async (shard) => (await readdir(join(dir, shard))).map((name) => `${shard}/${name}`)));
      return nested.flat().filter((name) => !name.endsWith('.tmp'));
    },
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}

export function toBuffer(raw: Buffer | string): Buffer {
  return typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
}

/** Splits `raw`, offering `reopen` as the engine does. */
export function split(raw: Buffer | string, content: ContentStore, options: Partial<SplitOptions> = {}): Promise<SplitResult> {
  const bytes = toBuffer(raw);
  return splitEmail(Readable.from([bytes]), { ...ALL_ON, reopen: () => Readable.from([bytes]), ...options }, content);
}

export async function readPart(content: ContentStore, ref: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of content.open(ref)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** `lines` joined with CRLF, as on the wire. */
export function mime(...lines: string[]): string {
  return lines.join('\r\n');
}
