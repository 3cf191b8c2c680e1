import type { Kysely } from 'kysely';

/**
 * The email trail ("where did my email go?"): what each ledger row says about its email (sender,
 * subject, date, size, how it was acknowledged on the server), kept as long as the ledger row,
 * and every delivery attempt of every pipeline message, kept as long as its outbox row
 * (`outbox.keepDelivered`). The indexes serve the trail's searches: by Message-ID, by sender, by
 * date picked up, and an email's attempts by its source key (001's outbox_by_email finds its
 * pipeline messages).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const [column, type] of [
    ['from_address', 'text'],
    ['subject', 'text'],
    ['sent_at', 'bigint'],
    ['size', 'bigint'],
    ['acknowledgement', 'text'],
  ] as const) {
    await db.schema.alterTable('ledger').addColumn(column, type).execute();
  }
  await db.schema.createIndex('ledger_by_message_id').on('ledger').column('message_id').execute();
  await db.schema.createIndex('ledger_by_from').on('ledger').column('from_address').execute();
  await db.schema.createIndex('ledger_by_emitted_at').on('ledger').column('emitted_at').execute();
  await db.schema
    .createTable('delivery_attempts')
    .addColumn('outbox_id', 'text', (col) => col.notNull())
    .addColumn('connection', 'text', (col) => col.notNull())
    .addColumn('source_key', 'text', (col) => col.notNull())
    .addColumn('destination', 'text', (col) => col.notNull())
    .addColumn('at', 'bigint', (col) => col.notNull())
    .addColumn('outcome', 'text', (col) => col.notNull())
    .addColumn('detail', 'text')
    .execute();
  await db.schema.createIndex('delivery_attempts_by_email').on('delivery_attempts').columns(['connection', 'source_key', 'at']).execute();
  await db.schema.createIndex('delivery_attempts_by_message').on('delivery_attempts').column('outbox_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('delivery_attempts').execute();
  for (const index of ['ledger_by_message_id', 'ledger_by_from', 'ledger_by_emitted_at']) {
    await db.schema.dropIndex(index).ifExists().execute();
  }
  for (const column of ['acknowledgement', 'size', 'sent_at', 'subject', 'from_address']) {
    await db.schema.alterTable('ledger').dropColumn(column).execute();
  }
}
