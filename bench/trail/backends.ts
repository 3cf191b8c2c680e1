/**
 * The two stores the trail bench fills and searches: a SQLite file in a temporary directory and
 * a PostgreSQL schema of its own on loopback (dropped at the end). Each creates its tables by the
 * store's own migrations (openStore), then offers what the bench needs beside the Store: bulk
 * inserts straight into those tables, the size on disk, a Kysely that reports the SQL it runs,
 * and the plan of a statement.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { type CompiledQuery, Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { openStore } from '../../src/store/open-store.ts';
import type { Tables } from '../../src/store/sql/tables.ts';
import { COLUMNS, type Row, type TableName } from './corpus.ts';

export const POSTGRES_BASE_URL = process.env.POSTROOM_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface BenchBackend {
  name: 'SQLite' | 'PostgreSQL';
  /** The `store:` value openStore takes. */
  location: string;
  insert(table: TableName, rows: Row[]): Promise<void>;
  /** After the fill: what a store that has been running a while has (a checkpointed WAL; PostgreSQL's autovacuum and statistics). */
  settle(): Promise<void>;
  sizeBytes(): Promise<number>;
  /** A Kysely on the same store that hands each query it runs to `seen`. */
  watched(seen: (query: CompiledQuery) => void): Kysely<Tables>;
  /** The planner's plan for the statement (PostgreSQL: run, with actual times and rows). */
  explain(query: CompiledQuery): Promise<string[]>;
  dispose(): Promise<void>;
}

async function migrate(location: string): Promise<void> {
  const opened = await openStore(location);
  await opened.store.close();
}

export async function sqliteBackend(): Promise<BenchBackend> {
  const dir = await mkdtemp(join(tmpdir(), 'postroom-bench-trail-'));
  await migrate(dir);
  const file = join(dir, 'postroom.sqlite');
  const database = new Database(file);
  database.pragma('journal_mode = WAL');
  // The fill is not what is measured: no fsync per batch.
  database.pragma('synchronous = OFF');
  // Room for the ledger's six indexes, so inserting into them stays in memory (the default 2 MB made the fill three minutes).
  database.pragma('cache_size = -393216');
  const statements = new Map<TableName, Database.Statement>();
  const statement = (table: TableName): Database.Statement => {
    let prepared = statements.get(table);
    if (!prepared) {
      const columns = Object.keys(COLUMNS[table]);
      prepared = database.prepare(`insert into ${table} (${columns.join(', ')}) values (${columns.map(() => '?').join(', ')})`);
      statements.set(table, prepared);
    }
    return prepared;
  };
  const insertAll = database.transaction((table: TableName, rows: Row[]) => {
    const prepared = statement(table);
    for (const row of rows) prepared.run(row);
  });
  const watchers: Database.Database[] = [];
  return {
    name: 'SQLite',
    location: dir,
    async insert(table, rows) {
      insertAll(table, rows);
    },
    async settle() {
      database.pragma('wal_checkpoint(TRUNCATE)');
    },
    async sizeBytes() {
      let bytes = 0;
      for (const suffix of ['', '-wal'])
        bytes += await stat(`${file}${suffix}`).then(
          (s) => s.size,
          () => 0,
        );
      return bytes;
    },
    watched(seen) {
      const reader = new Database(file, { readonly: true });
      watchers.push(reader);
      return new Kysely<Tables>({ dialect: new SqliteDialect({ database: reader }), log: (event) => seen(event.query) });
    },
    async explain(query) {
      const rows = database.prepare(`explain query plan ${query.sql}`).all(...(query.parameters as unknown[])) as Array<{
        id: number;
        parent: number;
        detail: string;
      }>;
      const depth = new Map<number, number>([[0, 0]]);
      return rows.map((row) => {
        const level = (depth.get(row.parent) ?? 0) + 1;
        depth.set(row.id, level);
        return `${'  '.repeat(level - 1)}${row.detail}`;
      });
    },
    async dispose() {
      for (const reader of watchers) reader.close();
      database.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function postgresBackend(): Promise<BenchBackend> {
  const schema = `bench_trail_${randomBytes(4).toString('hex')}`;
  const location = `${POSTGRES_BASE_URL}?schema=${schema}`;
  await migrate(location);
  // The fill is not what is measured: no wait for the WAL flush per batch.
  const pool = new pg.Pool({ connectionString: POSTGRES_BASE_URL, max: 2, options: `-c search_path=${schema} -c synchronous_commit=off` });
  pool.on('error', () => undefined);
  const sqlFor = (table: TableName): string => {
    const columns = Object.entries(COLUMNS[table]);
    return `insert into ${table} (${columns.map(([name]) => name).join(', ')}) select * from unnest(${columns.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ')})`;
  };
  return {
    name: 'PostgreSQL',
    location,
    async insert(table, rows) {
      const width = Object.keys(COLUMNS[table]).length;
      const arrays = Array.from({ length: width }, (_, column) => rows.map((row) => row[column] ?? null));
      await pool.query(sqlFor(table), arrays);
    },
    async settle() {
      for (const table of Object.keys(COLUMNS)) await pool.query(`vacuum analyze ${table}`);
    },
    async sizeBytes() {
      const result = await pool.query<{ bytes: string }>(
        `select coalesce(sum(pg_total_relation_size(c.oid)), 0) as bytes from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relkind = 'r'`,
        [schema],
      );
      return Number(result.rows[0]?.bytes ?? 0);
    },
    watched(seen) {
      return new Kysely<Tables>({ dialect: new PostgresDialect({ pool }), log: (event) => seen(event.query) });
    },
    async explain(query) {
      const result = await pool.query<{ 'QUERY PLAN': string }>(`explain (analyze, costs off) ${query.sql}`, query.parameters as unknown[]);
      return result.rows.map((row) => row['QUERY PLAN']);
    },
    async dispose() {
      await pool.query(`drop schema if exists "${schema}" cascade`);
      await pool.end();
    },
  };
}
