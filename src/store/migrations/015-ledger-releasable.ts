import { type Kysely, sql } from 'kysely';

/**
 * Raw emails waiting to be let go (`releasableContent`, asked after every delivery round) are
 * found by a partial index over the few ledger rows that still hold one, not by reading the
 * whole ledger each time: on a 100,000-email backlog that read was most of the drain's growing
 * CPU per email. Both SQLite and PostgreSQL take partial indexes.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('ledger_releasable').on('ledger').columns(['state']).where(sql.ref('raw_ref'), 'is not', null).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('ledger_releasable').ifExists().execute();
}
