/**
 * Kysely's SQLite driver prepares every statement afresh; SQLite compiling the same SQL again
 * and again was a tenth of a drain's main thread. This keeps the most recently used prepared
 * statements (better-sqlite3 statements are reusable) and hands them out again.
 *
 * Safe because Kysely runs one statement at a time on its single SQLite connection and
 * Postroom never streams a query (a statement being iterated cannot be run again meanwhile).
 */
import type Database from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/** Distinct statements kept; `IN (?, ?, …)` lists of varying length make the rest. */
const MAX_STATEMENTS = 256;

export function withStatementCache(database: Database.Database): SqliteDatabase {
  const cache = new Map<string, Database.Statement>();
  return {
    close: () => database.close(),
    prepare(sql: string): SqliteStatement {
      let statement = cache.get(sql);
      if (statement) {
        // Least recently used first: re-insert to move it to the end.
        cache.delete(sql);
      } else {
        statement = database.prepare(sql);
        if (cache.size >= MAX_STATEMENTS) cache.delete(cache.keys().next().value!);
      }
      cache.set(sql, statement);
      return statement;
    },
  };
}
