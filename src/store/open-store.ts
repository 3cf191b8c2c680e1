/**
 * Chooses the store from the config's `store:` value: a postgres:// URL, or a data directory. Each
 * backend is loaded only when chosen (SQLite never loads the PostgreSQL client, and back).
 */
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { ContentStore } from '../model/content-store.ts';
import { createFsContentStore } from './content/fs-content-store.ts';
import { sweepContentDir } from './content/sweep-content-dir.ts';
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

export async function openStore(location: string, options: { contentDir?: string; baseDir?: string; log?: Logger } = {}): Promise<OpenedStore> {
  const base = options.baseDir ?? process.cwd();
  if (isPostgresUrl(location)) {
    const dataDir = resolve(base, options.contentDir ?? './data');
    const { openPostgresStore } = await import('./postgres/open-postgres.ts');
    const { store, content } = await openPostgresStore(location);
    await store.migrate();
    // Content in the database by default, so workers on several machines share it; a contentDir
    // (a directory every worker mounts) keeps large content out of the database instead.
    if (!options.contentDir) return { store, content, dataDir };
    const contentDir = resolve(base, options.contentDir);
    await sweep(store, contentDir, options.log);
    return { store, content: createFsContentStore(contentDir), dataDir };
  }
  const dataDir = resolve(base, location);
  const { openSqliteStore } = await import('./sqlite/open-sqlite.ts');
  const store = openSqliteStore(dataDir);
  await store.migrate();
  const contentDir = resolve(base, options.contentDir ?? join(dataDir, 'content'));
  await sweep(store, contentDir, options.log);
  return { store, content: createFsContentStore(contentDir), dataDir };
}

async function sweep(store: Store, contentDir: string, log: Logger | undefined): Promise<void> {
  try {
    const { files, removed } = await sweepContentDir(contentDir, (refs) => store.referencedContent(refs), Date.now());
    if (removed > 0) log?.info({ contentDir, files, removed }, 'removed unreferenced content files a crash left behind');
  } catch (error) {
    await store.close();
    throw error;
  }
}
