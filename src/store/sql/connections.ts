/** Connections created through the REST API: one row each, the accepted input kept as JSON. */
import type { Kysely } from 'kysely';
import type { ManagedConnection, Store } from '../store.ts';
import type { ManagedConnectionsTable, Tables } from './tables.ts';

const toConnection = (row: ManagedConnectionsTable): ManagedConnection => ({
  name: row.name,
  config: JSON.parse(row.config_json) as Record<string, unknown>,
  enabled: Boolean(Number(row.enabled)),
  createdAt: Number(row.created_at),
  updatedAt: Number(row.updated_at),
});

type ConnectionQueries = Pick<
  Store,
  'listManagedConnections' | 'getManagedConnection' | 'insertManagedConnection' | 'updateManagedConnection' | 'deleteManagedConnection'
>;

export function connectionQueries(db: Kysely<Tables>): ConnectionQueries {
  return {
    async listManagedConnections() {
      const rows = await db.selectFrom('managed_connections').selectAll().orderBy('name').execute();
      return rows.map(toConnection);
    },
    async getManagedConnection(name) {
      const row = await db.selectFrom('managed_connections').selectAll().where('name', '=', name).executeTakeFirst();
      return row ? toConnection(row) : undefined;
    },
    async insertManagedConnection(connection) {
      const result = await db
        .insertInto('managed_connections')
        .values({
          name: connection.name,
          config_json: JSON.stringify(connection.config),
          enabled: connection.enabled ? 1 : 0,
          created_at: connection.createdAt,
          updated_at: connection.updatedAt,
        })
        .onConflict((oc) => oc.column('name').doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },
    async updateManagedConnection(name, change, now) {
      const result = await db
        .updateTable('managed_connections')
        .set({
          updated_at: now,
          ...(change.config ? { config_json: JSON.stringify(change.config) } : {}),
          ...(change.enabled === undefined ? {} : { enabled: change.enabled ? 1 : 0 }),
        })
        .where('name', '=', name)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async deleteManagedConnection(name) {
      const result = await db.deleteFrom('managed_connections').where('name', '=', name).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}
