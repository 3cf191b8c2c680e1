/** The Store built from per-table query modules over one Kysely instance (SQLite or PostgreSQL). */
import { type Kysely, Migrator, sql } from 'kysely';
import { PostroomError } from '../model/errors.ts';
import { migrationProvider } from './migrations/index.ts';
import { activityQueries } from './sql/activity.ts';
import { connectionQueries } from './sql/connections.ts';
import { controlQueries } from './sql/controls.ts';
import { leaseQueries } from './sql/leases.ts';
import { ledgerQueries } from './sql/ledger.ts';
import { outboxQueries } from './sql/outbox.ts';
import { requestQueries } from './sql/requests.ts';
import { statusQueries } from './sql/status.ts';
import type { Tables } from './sql/tables.ts';
import { trailQueries } from './sql/trail.ts';
import type { Store, StoreCapabilities } from './store.ts';

export interface KyselyStoreOptions {
  /** PostgreSQL schema holding the tables (and Kysely's migration tables). */
  schema?: string;
  onClose?: () => Promise<void>;
  /** The database has a clock of its own worth aligning workers to (PostgreSQL). */
  databaseClock?: boolean;
}

export function createKyselyStore(db: Kysely<Tables>, capabilities: StoreCapabilities, options: KyselyStoreOptions = {}): Store {
  let closed = false;
  return {
    capabilities,
    async migrate() {
      const migrator = new Migrator({ db, provider: migrationProvider, ...(options.schema ? { migrationTableSchema: options.schema } : {}) });
      const { error, results } = await migrator.migrateToLatest();
      const failed = results?.find((result) => result.status === 'Error');
      if (error || failed) {
        throw new PostroomError(
          'STORE_FAILED',
          `migration ${failed?.migrationName ?? ''} failed: ${(error as Error | undefined)?.message ?? 'unknown error'}`,
          { cause: error },
        );
      }
    },
    async ping() {
      await sql`select 1`.execute(db);
    },
    ...(options.databaseClock
      ? {
          async databaseTime() {
            // clock_timestamp(), not now(): now() is the transaction's start.
            const result = await sql<{ ms: number | string }>`select extract(epoch from clock_timestamp()) * 1000 as ms`.execute(db);
            return Number(result.rows[0]!.ms);
          },
        }
      : {}),
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
      await options.onClose?.();
    },
    ...leaseQueries(db),
    ...ledgerQueries(db),
    ...outboxQueries(db, capabilities),
    ...statusQueries(db),
    ...activityQueries(db),
    ...connectionQueries(db),
    ...requestQueries(db),
    ...trailQueries(db),
    ...controlQueries(db),
  };
}
