import type { Kysely } from 'kysely';

/**
 * The W3C `traceparent` of the email's span beside each of its pipeline messages, so a delivery
 * continues the email's trace whichever worker makes it and however much later (null when the
 * worker that committed the email was not traced).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('outbox').addColumn('trace_parent', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('outbox').dropColumn('trace_parent').execute();
}
