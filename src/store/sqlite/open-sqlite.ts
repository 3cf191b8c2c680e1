/** The embedded default: one SQLite file in the data directory, in WAL mode. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { createKyselyStore } from '../kysely-store.ts';
import { withStatementCache } from './statement-cache.ts';
import type { Tables } from '../sql/tables.ts';
import type { Store, StoreCapabilities } from '../store.ts';

/** Several local processes may open the file; a writer waits this long for the lock instead of failing. */
const BUSY_TIMEOUT_MS = 10_000;

export const SQLITE_CAPABILITIES: StoreCapabilities = Object.freeze({ shared: false, skipLocked: false });

export function openSqliteStore(dataDir: string): Store {
  mkdirSync(dataDir, { recursive: true });
  const database = new Database(join(dataDir, 'postroom.sqlite'));
  database.pragma('journal_mode = WAL');
  // FULL: a commit is on disk before we acknowledge the email on the server; NORMAL could lose
  // the last commits on power loss after the server already deleted the email.
  database.pragma('synchronous = FULL');
  database.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  const db = new Kysely<Tables>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) });
  return createKyselyStore(db, SQLITE_CAPABILITIES);
}
