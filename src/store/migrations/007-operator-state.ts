import type { Kysely } from 'kysely';

/**
 * What the running service decided and what operators did, in the store so that every worker
 * and every `postroom status` from another shell sees the same thing:
 * - connection_state.enabled: the service's own reading of `enabled` (the config file's value
 *   may come from the service's environment, which another shell does not have);
 * - polling_since / polling_holder: a poll is running now, on which worker;
 * - last_ok_poll_at: the last poll that read the mailbox (not a throttled wait), for alerts;
 * - paused_by / paused_at: an operator paused the connection (every worker leaves it alone);
 * - outbox.last_attempt_at: when a message was last tried, so the latest delivery error of a
 *   connection or destination can be shown.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('connection_state').addColumn('enabled', 'integer').execute();
  await db.schema.alterTable('connection_state').addColumn('polling_since', 'bigint').execute();
  await db.schema.alterTable('connection_state').addColumn('polling_holder', 'text').execute();
  await db.schema.alterTable('connection_state').addColumn('last_ok_poll_at', 'bigint').execute();
  await db.schema.alterTable('connection_state').addColumn('paused_by', 'text').execute();
  await db.schema.alterTable('connection_state').addColumn('paused_at', 'bigint').execute();
  await db.schema.alterTable('outbox').addColumn('last_attempt_at', 'bigint').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('outbox').dropColumn('last_attempt_at').execute();
  for (const column of ['paused_at', 'paused_by', 'last_ok_poll_at', 'polling_holder', 'polling_since', 'enabled']) {
    await db.schema.alterTable('connection_state').dropColumn(column).execute();
  }
}
