import type { Kysely } from 'kysely';

/** Delivered pipeline messages are forgotten once older than `outbox.keepDelivered`: find them by index. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('outbox_delivered').on('outbox').columns(['state', 'delivered_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('outbox_delivered').execute();
}
