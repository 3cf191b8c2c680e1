/** Connections created through the REST API / web UI; config-file connections are never stored. */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('managed_connections')
    .addColumn('name', 'text', (c) => c.primaryKey())
    // The connection as the API accepted it (input form: durations as written), re-validated on load.
    .addColumn('config_json', 'text', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('managed_connections').ifExists().execute();
}
