/** The embedded default: one SQLite file in the data directory, in WAL mode. */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { createKyselyStore } from '../kysely-store.ts';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, chmodIfPresent } from '../private-files.ts';
import { withStatementCache } from './statement-cache.ts';
import type { Tables } from '../sql/tables.ts';
import type { Store, StoreCapabilities } from '../store.ts';

/** Several local processes may open the file; a writer waits this long for the lock instead of failing. */
const BUSY_TIMEOUT_MS = 10_000;
/** SQLite's companion files: the WAL and its shared-memory index (and a rollback journal, should one exist). */
const COMPANION_SUFFIXES = ['-wal', '-shm', '-journal'];

export const SQLITE_CAPABILITIES: StoreCapabilities = Object.freeze({ skipLocked: false });

export function openSqliteStore(dataDir: string): Store {
  mkdirSync(dataDir, { recursive: true, mode: PRIVATE_DIR_MODE });
  chmodIfPresent(dataDir, PRIVATE_DIR_MODE);
  const file = join(dataDir, 'postroom.sqlite');
  // Created here with 0600 before SQLite opens it: SQLite gives its WAL and SHM the mode of the
  // database file, so they are born private too. Ones an older version made are tightened below.
  closeSync(openSync(file, 'a', PRIVATE_FILE_MODE));
  chmodIfPresent(file, PRIVATE_FILE_MODE);
  const database = new Database(file);
  database.pragma('journal_mode = WAL');
  // FULL: a commit is on disk before we acknowledge the email on the server; NORMAL could lose
  // the last commits on power loss after the server already deleted the email.
  database.pragma('synchronous = FULL');
  database.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  for (const suffix of COMPANION_SUFFIXES) chmodIfPresent(`${file}${suffix}`, PRIVATE_FILE_MODE);
  const db = new Kysely<Tables>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) });
  return createKyselyStore(db, SQLITE_CAPABILITIES);
}
