/** Store backends for tests: a fresh SQLite directory, or a fresh PostgreSQL schema on loopback. */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { type OpenedStore, openStore } from '../../src/store/open-store.ts';

export const POSTGRES_BASE_URL = process.env.POSTROOM_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestStore extends OpenedStore {
  /** The `store:` value a worker process would use to open the same store. */
  location: string;
  dispose(): Promise<void>;
}

export async function sqliteTestStore(): Promise<TestStore> {
  const dir = await mkdtemp(join(tmpdir(), 'postroom-store-'));
  const opened = await openStore(dir);
  return {
    ...opened,
    location: dir,
    async dispose() {
      await opened.store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh schema; content in the database too, unless `contentDir` names a directory for it. */
export async function postgresTestStore(contentDir?: string): Promise<TestStore> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const location = `${POSTGRES_BASE_URL}?schema=${schema}`;
  const opened = await openStore(location, contentDir ? { contentDir } : {});
  return {
    ...opened,
    location,
    async dispose() {
      await opened.store.close();
      const client = new pg.Client({ connectionString: POSTGRES_BASE_URL });
      await client.connect();
      await client.query(`drop schema if exists "${schema}" cascade`);
      await client.end();
    },
  };
}

export const STORE_BACKENDS = [
  { name: 'sqlite', open: sqliteTestStore },
  { name: 'postgres', open: () => postgresTestStore() },
] as const;
