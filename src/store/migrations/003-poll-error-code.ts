import type { Kysely } from 'kysely';

/** The catalogue code of a failed poll, so status can tell "needs re-authorisation" from other failures. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('polls').addColumn('error_code', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('polls').dropColumn('error_code').execute();
}
