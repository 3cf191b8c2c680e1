import type { Kysely } from 'kysely';

/**
 * Requests sent to an account (Graph: per app and mailbox), counted in time buckets that every
 * worker adds to, so all of them keep under one budget; the backlog a connection's last listing
 * saw; and the ledger indexed by emit time, for emails per minute.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('request_counts')
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('bucket_at', 'bigint', (c) => c.notNull())
    .addColumn('requests', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('request_counts_pk', ['account', 'bucket_at'])
    .execute();
  await db.schema.alterTable('connection_state').addColumn('backlog', 'integer').execute();
  await db.schema.alterTable('connection_state').addColumn('backlog_at', 'bigint').execute();
  await db.schema.createIndex('ledger_by_emitted').on('ledger').columns(['connection', 'emitted_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('ledger_by_emitted').execute();
  await db.schema.alterTable('connection_state').dropColumn('backlog_at').execute();
  await db.schema.alterTable('connection_state').dropColumn('backlog').execute();
  await db.schema.dropTable('request_counts').execute();
}
