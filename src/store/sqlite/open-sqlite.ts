/** The embedded default: one SQLite file in the data directory, in WAL mode. */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { createKyselyStore } from '../kysely-store.ts';
import { chmodIfPresent, PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../private-files.ts';
import type { Tables } from '../sql/tables.ts';
import type { Store, StoreCapabilities } from '../store.ts';
import { namingStoreErrors } from '../store-errors.ts';
import { withStatementCache } from './statement-cache.ts';

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
  const db = new Kysely<Tables>({ dialect: namingStoreErrors(new SqliteDialect({ database: withStatementCache(database) }), dataDir) });
  const store = createKyselyStore(db, SQLITE_CAPABILITIES);
  const migrate = store.migrate.bind(store);
  store.migrate = () => migrateAlone(dataDir, migrate);
  return store;
}

/** Workers starting together wait this long for the one migrating first. */
const MIGRATION_LOCK_TIMEOUT_MS = 60_000;

/**
 * Kysely's Migrator takes no lock on SQLite, so two workers starting at once on a fresh store
 * both ran migration 001 and both failed ("table leases already exists"; found by the soak).
 * One migrates at a time: an exclusive transaction on a lock file of its own (`migrate.lock`,
 * SQLite's own file locking, which every local process honours) is held around the migration;
 * the others wait for it (busy_timeout), then find nothing left to do. A killed holder's lock
 * goes with its process.
 */
async function migrateAlone(dataDir: string, migrate: () => Promise<void>): Promise<void> {
  const lockFile = join(dataDir, 'migrate.lock');
  closeSync(openSync(lockFile, 'a', PRIVATE_FILE_MODE));
  const lock = new Database(lockFile);
  try {
    lock.pragma(`busy_timeout = ${MIGRATION_LOCK_TIMEOUT_MS}`);
    lock.exec('BEGIN EXCLUSIVE');
    try {
      await migrate();
    } finally {
      lock.exec('COMMIT');
    }
  } finally {
    lock.close();
  }
}
