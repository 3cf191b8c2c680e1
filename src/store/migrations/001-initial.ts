import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('leases')
    .addColumn('connection', 'text', (c) => c.primaryKey())
    .addColumn('holder', 'text', (c) => c.notNull())
    .addColumn('token', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('acquired_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('ledger')
    .addColumn('connection', 'text', (c) => c.notNull())
    .addColumn('source_key', 'text', (c) => c.notNull())
    .addColumn('key_json', 'text', (c) => c.notNull())
    .addColumn('fingerprint', 'text')
    .addColumn('message_id', 'text')
    .addColumn('raw_sha256', 'text', (c) => c.notNull())
    .addColumn('raw_ref', 'text')
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('emitted_at', 'bigint', (c) => c.notNull())
    .addColumn('acknowledged_at', 'bigint')
    .addColumn('token', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('ledger_pk', ['connection', 'source_key'])
    .execute();
  await db.schema.createIndex('ledger_by_state').on('ledger').columns(['connection', 'state']).execute();
  await db.schema.createIndex('ledger_by_content').on('ledger').columns(['connection', 'raw_sha256']).execute();

  await db.schema
    .createTable('outbox')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('connection', 'text', (c) => c.notNull())
    .addColumn('destination', 'text', (c) => c.notNull())
    .addColumn('source_key', 'text', (c) => c.notNull())
    .addColumn('envelope', 'text', (c) => c.notNull())
    .addColumn('content_ref', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'bigint')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('delivered_at', 'bigint')
    .addColumn('claimed_by', 'text')
    .addColumn('claimed_until', 'bigint')
    .execute();
  await db.schema.createIndex('outbox_due').on('outbox').columns(['state', 'next_attempt_at']).execute();
  await db.schema.createIndex('outbox_by_email').on('outbox').columns(['connection', 'source_key']).execute();

  await db.schema
    .createTable('cursors')
    .addColumn('connection', 'text', (c) => c.primaryKey())
    .addColumn('cursor', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('throttles')
    .addColumn('account', 'text', (c) => c.primaryKey())
    .addColumn('until', 'bigint', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('since', 'bigint', (c) => c.notNull())
    .addColumn('consecutive', 'integer', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('polls')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('connection', 'text', (c) => c.notNull())
    .addColumn('holder', 'text', (c) => c.notNull())
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('finished_at', 'bigint', (c) => c.notNull())
    .addColumn('ok', 'integer', (c) => c.notNull())
    .addColumn('emails', 'integer', (c) => c.notNull())
    .addColumn('messages', 'integer', (c) => c.notNull())
    .addColumn('error', 'text')
    .execute();
  await db.schema.createIndex('polls_by_connection').on('polls').columns(['connection', 'started_at']).execute();

  await db.schema
    .createTable('connection_state')
    .addColumn('connection', 'text', (c) => c.primaryKey())
    .addColumn('next_due_at', 'bigint')
    .addColumn('consecutive_failures', 'integer', (c) => c.notNull())
    .addColumn('last_poll_id', 'text')
    .addColumn('emails_total', 'bigint', (c) => c.notNull())
    .addColumn('messages_total', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['connection_state', 'polls', 'throttles', 'cursors', 'outbox', 'ledger', 'leases']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
