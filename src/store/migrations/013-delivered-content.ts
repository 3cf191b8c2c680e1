import type { Kysely } from 'kysely';

/**
 * A delivered pipeline message can keep its content for a while (`outbox.keepDeliveredContent`),
 * so an operator can send it to its destination again when a downstream system lost it.
 * `content_until`: until when the content of a delivered message is kept; null when it is gone
 * (the default: removed at delivery). The index finds the contents whose time is up.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('outbox').addColumn('content_until', 'bigint').execute();
  await db.schema.createIndex('outbox_by_content_until').on('outbox').column('content_until').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('outbox_by_content_until').ifExists().execute();
  await db.schema.alterTable('outbox').dropColumn('content_until').execute();
}
