/** The shared store: PostgreSQL, for several workers on one or more machines. */
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { ContentStore } from '../../model/content-store.ts';
import { createKyselyStore } from '../kysely-store.ts';
import type { Tables } from '../sql/tables.ts';
import type { Store, StoreCapabilities } from '../store.ts';
import { namingStoreErrors } from '../store-errors.ts';
import { createPgContentStore, ensureContentTable } from './pg-content-store.ts';

export const POSTGRES_CAPABILITIES: StoreCapabilities = Object.freeze({ skipLocked: true });

/** int8 columns (epoch milliseconds, tokens) fit in a double for the next 285,000 years. */
pg.types.setTypeParser(20, (value) => Number(value));

/**
 * `postgres://user@host/db?schema=name` puts every table in `name` (created when missing);
 * tests use it so runs never collide.
 */
/** How long a query waits for a connection before the store counts as not answering. */
const POOL_WAIT_MS = 10_000;

export async function openPostgresStore(url: string): Promise<{ store: Store; content: ContentStore }> {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema') ?? undefined;
  parsed.searchParams.delete('schema');
  if (schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(schema)) {
    throw new Error(`schema "${schema}" must be lower-case letters, digits and underscores`);
  }
  // search_path as a startup option: it is in force before the first query of every connection.
  // connectionTimeoutMillis bounds both a new connection and the wait for a pooled one: without it a
  // query (the /healthz ping among them) queued behind connections stuck on a database that went
  // away waits for ever, and /healthz never says the store is down.
  const pool = new pg.Pool({
    connectionString: parsed.toString(),
    max: 10,
    connectionTimeoutMillis: POOL_WAIT_MS,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle pooled connection the server closed (a restart, a failover) is reported here; without
  // a listener it would end the process. The pool drops it, and the next query opens a new one
  // (a failing query then says STORE_FAILED, store-errors.ts).
  pool.on('error', () => undefined);
  // A connection checked out of the pool (a transaction between two statements) that the server
  // closes reports it on the client itself, where the pool no longer listens while it is out:
  // without a listener of its own that ends the process (ECONNRESET, seen when PostgreSQL stopped
  // in test/faults/a-postgresql-restart-…). The statement that next uses the connection fails
  // instead, as STORE_FAILED, and the worker waits for the store like for any other outage.
  pool.on('connect', (client) => client.on('error', () => undefined));
  if (schema) {
    const client = await pool.connect();
    try {
      await client.query(`create schema if not exists "${schema}"`);
    } catch (error) {
      // Two workers creating the schema at once: one loses the race harmlessly.
      if ((error as { code?: string }).code !== '23505') throw error;
    } finally {
      client.release();
    }
  }
  const db = new Kysely<Tables>({ dialect: namingStoreErrors(new PostgresDialect({ pool }), storeName(parsed)) });
  await ensureContentTable(pool);
  return { store: createKyselyStore(db, POSTGRES_CAPABILITIES, { databaseClock: true, ...(schema ? { schema } : {}) }), content: createPgContentStore(pool) };
}

/** The store as errors name it: host, port and database, never the user or password. */
function storeName(url: URL): string {
  return `PostgreSQL ${url.hostname}:${url.port || '5432'}${url.pathname}`;
}
