/**
 * Content files in PostgreSQL itself, for workers on several machines: any worker can deliver
 * what another one picked up, with no shared file system. Content is stored in chunks, written
 * and read one chunk at a time, so a large attachment never sits in memory whole.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type pg from 'pg';
import type { ContentStore, WrittenContent } from '../../model/content-store.ts';

/** Bytes per row: large enough to keep the row count low, small enough to keep memory flat. */
const CHUNK_BYTES = 1024 * 1024;

/** Creates the chunk table; several workers starting at once may race, and one loses harmlessly. */
export async function ensureContentTable(pool: pg.Pool): Promise<void> {
  try {
    await pool.query('create table if not exists content_chunks (ref text not null, seq integer not null, data bytea not null, primary key (ref, seq))');
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== '23505' && code !== '42P07') throw error;
  }
}

export function createPgContentStore(pool: pg.Pool): ContentStore {
  const removeChunks = async (ref: string): Promise<void> => {
    await pool.query('delete from content_chunks where ref = $1', [ref]);
  };
  return {
    async write(source: Readable): Promise<WrittenContent> {
      const ref = `pg/${randomUUID()}`;
      const hash = createHash('sha256');
      let size = 0;
      let seq = 0;
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      const flush = async (): Promise<void> => {
        if (!pendingBytes) return;
        const data = Buffer.concat(pending, pendingBytes);
        pending = [];
        pendingBytes = 0;
        await pool.query('insert into content_chunks (ref, seq, data) values ($1, $2, $3)', [ref, seq++, data]);
      };
      try {
        for await (const chunk of source) {
          const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
          hash.update(bytes);
          size += bytes.length;
          pending.push(bytes);
          pendingBytes += bytes.length;
          if (pendingBytes >= CHUNK_BYTES) await flush();
        }
        await flush();
      } catch (error) {
        await removeChunks(ref).catch(() => undefined);
        throw error;
      }
      return { ref, size, sha256: hash.digest('hex') };
    },
    // Every chunk is committed as it is written: nothing is left to make durable.
    async makeDurable() {},
    open(ref: string): Readable {
      async function* chunks(): AsyncGenerator<Buffer> {
        for (let seq = 0; ; seq++) {
          const result = await pool.query<{ data: Buffer }>('select data from content_chunks where ref = $1 and seq = $2', [ref, seq]);
          const row = result.rows[0];
          if (!row) return;
          yield row.data;
        }
      }
      return Readable.from(chunks(), { objectMode: false });
    },
    remove: removeChunks,
  };
}
