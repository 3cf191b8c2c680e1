/** Chooses the store from the config's `store:` value: a postgres:// URL, or a data directory. */
import { join, resolve } from 'node:path';
import type { ContentStore } from './content/content-store.ts';
import { createFsContentStore } from './content/fs-content-store.ts';
import { openPostgresStore } from './postgres/open-postgres.ts';
import { openSqliteStore } from './sqlite/open-sqlite.ts';
import type { Store } from './store.ts';

export interface OpenedStore {
  store: Store;
  content: ContentStore;
  /** Where local state lives (SQLite file, content files). */
  dataDir: string;
}

export function isPostgresUrl(value: string): boolean {
  return /^postgres(ql)?:\/\//.test(value);
}

export async function openStore(location: string, options: { contentDir?: string; baseDir?: string } = {}): Promise<OpenedStore> {
  const base = options.baseDir ?? process.cwd();
  if (isPostgresUrl(location)) {
    const dataDir = resolve(base, options.contentDir ?? './data');
    const store = await openPostgresStore(location);
    await store.migrate();
    return { store, content: createFsContentStore(join(dataDir, 'content')), dataDir };
  }
  const dataDir = resolve(base, location);
  const store = openSqliteStore(dataDir);
  await store.migrate();
  return { store, content: createFsContentStore(resolve(base, options.contentDir ?? join(dataDir, 'content'))), dataDir };
}
