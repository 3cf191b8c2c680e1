import type { Kysely } from 'kysely';

/**
 * Emails a connection's filter did not take: their ledger rows (state `filtered`) say which
 * condition left them out and why, so they are not judged again on every poll, and status and
 * metrics count them per connection and condition (001's ledger_by_state index serves both).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('ledger').addColumn('filtered_condition', 'text').execute();
  await db.schema.alterTable('ledger').addColumn('filtered_reason', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('ledger').dropColumn('filtered_reason').execute();
  await db.schema.alterTable('ledger').dropColumn('filtered_condition').execute();
}
