import type { Kysely } from 'kysely';

/**
 * Every operator control of a connection (pause, resume, poll now): what, who and when, kept as
 * long as the polls are (a day, pruned as they are), so a connection page can show who paused
 * it after it was resumed. A poll now names the poll it caused (poll_id, set when the next poll
 * of that connection after the request is recorded), and that poll carries who asked
 * (polls.asked_by).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('connection_controls')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('connection', 'text', (col) => col.notNull())
    .addColumn('action', 'text', (col) => col.notNull())
    .addColumn('by_whom', 'text', (col) => col.notNull())
    .addColumn('at', 'bigint', (col) => col.notNull())
    .addColumn('poll_id', 'text')
    .execute();
  await db.schema.createIndex('connection_controls_by_connection').on('connection_controls').columns(['connection', 'at']).execute();
  await db.schema.alterTable('polls').addColumn('asked_by', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('polls').dropColumn('asked_by').execute();
  await db.schema.dropTable('connection_controls').execute();
}
