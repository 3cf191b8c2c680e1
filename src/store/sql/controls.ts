/**
 * Operators' controls of a connection (pause, resume, poll now): each recorded with who and when
 * in the same transaction that acts on it, and kept as long as the polls (a day). A poll now is
 * tied to the poll it caused when that poll is recorded (status.ts, recordPoll).
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { ControlAction, Store } from '../store.ts';
import { emptyState, POLL_HISTORY_MS } from './status.ts';
import type { Tables } from './tables.ts';

export function controlQueries(db: Kysely<Tables>): Pick<Store, 'recordControl' | 'recentControls'> {
  return {
    async recordControl(control) {
      const set =
        control.action === 'pause'
          ? { paused_by: control.by, paused_at: control.at }
          : control.action === 'resume'
            ? { paused_by: null, paused_at: null, next_due_at: control.at }
            : { next_due_at: control.at };
      await db.transaction().execute(async (trx) => {
        await trx
          .insertInto('connection_controls')
          .values({ id: randomUUID(), connection: control.connection, action: control.action, by_whom: control.by, at: control.at, poll_id: null })
          .execute();
        await trx
          .insertInto('connection_state')
          .values({ ...emptyState(control.connection), ...set })
          .onConflict((oc) => oc.column('connection').doUpdateSet(set))
          .execute();
        await trx
          .deleteFrom('connection_controls')
          .where('connection', '=', control.connection)
          .where('at', '<', control.at - POLL_HISTORY_MS)
          .execute();
      });
    },
    async recentControls(connection, limit) {
      const rows = await db
        .selectFrom('connection_controls as c')
        .leftJoin('polls as p', 'p.id', 'c.poll_id')
        .select(['c.connection', 'c.action', 'c.by_whom', 'c.at', 'p.started_at'])
        .where('c.connection', '=', connection)
        .orderBy('c.at', 'desc')
        .orderBy('c.id')
        .limit(limit)
        .execute();
      return rows.map((row) => ({
        connection: row.connection,
        action: row.action as ControlAction,
        by: row.by_whom,
        at: Number(row.at),
        polledAt: row.started_at === null ? null : Number(row.started_at),
      }));
    },
  };
}
