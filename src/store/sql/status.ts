/** Throttle state shared by every worker, poll history and per-connection scheduling state. */
import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { ConnectionState, PollRecord, Store, ThrottleState } from '../store.ts';
import type { ConnectionStateTable, PollsTable, Tables, ThrottlesTable } from './tables.ts';

/** Poll history kept per connection: a day is enough for the status board's plot. */
export const POLL_HISTORY_MS = 24 * 3_600_000;

const toThrottle = (row: ThrottlesTable): ThrottleState => ({
  account: row.account,
  until: Number(row.until),
  reason: row.reason,
  since: Number(row.since),
  consecutive: Number(row.consecutive),
});

/** What the engine writes as a throttled wait's error; rows from before THROTTLED was stored carry only this. */
const THROTTLED_PREFIX = 'throttled: ';
const THROTTLED_CODE = 'THROTTLED';

function toPoll(row: Selectable<PollsTable>): PollRecord {
  const throttled = Boolean(row.ok) && (row.error_code === THROTTLED_CODE || (row.error?.startsWith(THROTTLED_PREFIX) ?? false));
  return {
    connection: row.connection,
    holder: row.holder,
    startedAt: Number(row.started_at),
    finishedAt: Number(row.finished_at),
    ok: Boolean(row.ok),
    emails: Number(row.emails),
    messages: Number(row.messages),
    error: row.error,
    errorCode: row.error_code ?? null,
    ...(throttled ? { throttled: true } : {}),
    askedBy: row.asked_by ?? null,
  };
}

type StatusQueries = Pick<
  Store,
  | 'getThrottle'
  | 'setThrottle'
  | 'clearThrottle'
  | 'listThrottles'
  | 'recordPoll'
  | 'recentPolls'
  | 'getConnectionState'
  | 'listConnectionStates'
  | 'setNextDue'
  | 'markPolling'
  | 'recordEnabled'
  | 'setPaused'
>;

const num = (value: number | null | undefined): number | null => (value === null || value === undefined ? null : Number(value));

/** A connection_state row with nothing recorded yet, for upserts that set one field. */
export const emptyState = (connection: string) => ({
  connection,
  next_due_at: null,
  consecutive_failures: 0,
  last_poll_id: null,
  emails_total: 0,
  messages_total: 0,
  backlog: null,
  backlog_at: null,
});

export function statusQueries(db: Kysely<Tables>): StatusQueries {
  async function withLastPoll(rows: Selectable<ConnectionStateTable>[]): Promise<ConnectionState[]> {
    const ids = rows.map((row) => row.last_poll_id).filter((id): id is string => id !== null);
    const polls = ids.length ? await db.selectFrom('polls').selectAll().where('id', 'in', ids).execute() : [];
    const byId = new Map(polls.map((poll) => [poll.id, toPoll(poll)]));
    return rows.map((row) => ({
      connection: row.connection,
      nextDueAt: row.next_due_at === null ? null : Number(row.next_due_at),
      consecutiveFailures: Number(row.consecutive_failures),
      lastPoll: (row.last_poll_id && byId.get(row.last_poll_id)) || null,
      emailsTotal: Number(row.emails_total),
      messagesTotal: Number(row.messages_total),
      backlog: num(row.backlog),
      backlogAt: num(row.backlog_at),
      enabled: row.enabled === null || row.enabled === undefined ? null : Boolean(Number(row.enabled)),
      pollingSince: num(row.polling_since),
      pollingHolder: row.polling_holder ?? null,
      lastOkPollAt: num(row.last_ok_poll_at),
      pausedBy: row.paused_by ?? null,
      pausedAt: num(row.paused_at),
    }));
  }

  return {
    async getThrottle(account) {
      const row = await db.selectFrom('throttles').selectAll().where('account', '=', account).executeTakeFirst();
      return row ? toThrottle(row) : undefined;
    },
    async setThrottle(state) {
      await db
        .insertInto('throttles')
        .values({ account: state.account, until: state.until, reason: state.reason, since: state.since, consecutive: state.consecutive })
        .onConflict((oc) =>
          oc.column('account').doUpdateSet((eb) => ({
            until: eb.ref('excluded.until'),
            reason: eb.ref('excluded.reason'),
            since: eb.ref('excluded.since'),
            consecutive: eb.ref('excluded.consecutive'),
          })),
        )
        .execute();
    },
    async clearThrottle(account) {
      await db.deleteFrom('throttles').where('account', '=', account).execute();
    },
    async listThrottles() {
      const rows = await db.selectFrom('throttles').selectAll().orderBy('account').execute();
      return rows.map(toThrottle);
    },
    async recordPoll(poll, nextDueAt) {
      const id = randomUUID();
      const readMailbox = poll.ok && !poll.throttled;
      await db.transaction().execute(async (trx) => {
        // Poll now: the first poll that starts at or after the request is the one it caused. One
        // asked for while this poll ran waits for the next, which is then due at once (this
        // poll's own next due time would otherwise put it off by a whole interval).
        const asked = await trx
          .selectFrom('connection_controls')
          .select(['id', 'by_whom', 'at'])
          .where('connection', '=', poll.connection)
          .where('action', '=', 'poll')
          .where('poll_id', 'is', null)
          .where('at', '>=', poll.startedAt - POLL_HISTORY_MS)
          .orderBy('at')
          .execute();
        const caused = asked.filter((control) => Number(control.at) <= poll.startedAt);
        const waiting = asked.find((control) => Number(control.at) > poll.startedAt);
        if (waiting) nextDueAt = Math.min(nextDueAt, Number(waiting.at));
        if (caused.length) {
          await trx
            .updateTable('connection_controls')
            .set({ poll_id: id })
            .where(
              'id',
              'in',
              caused.map((control) => control.id),
            )
            .execute();
        }
        await trx
          .insertInto('polls')
          .values({
            id,
            connection: poll.connection,
            holder: poll.holder,
            started_at: poll.startedAt,
            finished_at: poll.finishedAt,
            ok: poll.ok ? 1 : 0,
            emails: poll.emails,
            messages: poll.messages,
            error: poll.error,
            error_code: poll.errorCode ?? (poll.throttled ? THROTTLED_CODE : null),
            asked_by: caused.length ? [...new Set(caused.map((control) => control.by_whom))].join(', ') : null,
          })
          .execute();
        await trx
          .insertInto('connection_state')
          .values({
            connection: poll.connection,
            next_due_at: nextDueAt,
            consecutive_failures: poll.ok ? 0 : 1,
            last_poll_id: id,
            emails_total: poll.emails,
            messages_total: poll.messages,
            backlog: null,
            backlog_at: null,
            polling_since: null,
            polling_holder: null,
            last_ok_poll_at: readMailbox ? poll.finishedAt : null,
          })
          .onConflict((oc) =>
            oc.column('connection').doUpdateSet((eb) => ({
              polling_since: null,
              polling_holder: null,
              ...(readMailbox ? { last_ok_poll_at: poll.finishedAt } : {}),
              next_due_at: eb.ref('excluded.next_due_at'),
              consecutive_failures: poll.ok ? 0 : eb(eb.ref('connection_state.consecutive_failures'), '+', 1),
              last_poll_id: eb.ref('excluded.last_poll_id'),
              emails_total: eb(eb.ref('connection_state.emails_total'), '+', poll.emails),
              messages_total: eb(eb.ref('connection_state.messages_total'), '+', poll.messages),
            })),
          )
          .execute();
        await trx
          .deleteFrom('polls')
          .where('connection', '=', poll.connection)
          .where('started_at', '<', poll.startedAt - POLL_HISTORY_MS)
          .execute();
        await trx
          .deleteFrom('connection_controls')
          .where('connection', '=', poll.connection)
          .where('at', '<', poll.startedAt - POLL_HISTORY_MS)
          .execute();
      });
    },
    async recentPolls(connection, limit) {
      const rows = await db
        .selectFrom('polls')
        .selectAll()
        .where('connection', '=', connection)
        .orderBy('started_at', 'desc')
        .orderBy('finished_at', 'desc')
        .limit(limit)
        .execute();
      return rows.map(toPoll);
    },
    async getConnectionState(connection) {
      const rows = await db.selectFrom('connection_state').selectAll().where('connection', '=', connection).execute();
      return (await withLastPoll(rows))[0];
    },
    async listConnectionStates() {
      return withLastPoll(await db.selectFrom('connection_state').selectAll().orderBy('connection').execute());
    },
    async setNextDue(connection, nextDueAt) {
      await db
        .insertInto('connection_state')
        .values({
          connection,
          next_due_at: nextDueAt,
          consecutive_failures: 0,
          last_poll_id: null,
          emails_total: 0,
          messages_total: 0,
          backlog: null,
          backlog_at: null,
        })
        .onConflict((oc) => oc.column('connection').doUpdateSet({ next_due_at: nextDueAt }))
        .execute();
    },
    async markPolling(connection, holder, since) {
      if (since === null) {
        await db
          .updateTable('connection_state')
          .set({ polling_since: null, polling_holder: null })
          .where('connection', '=', connection)
          .where('polling_holder', '=', holder)
          .execute();
        return;
      }
      const set = { polling_since: since, polling_holder: holder };
      await db
        .insertInto('connection_state')
        .values({ ...emptyState(connection), ...set })
        .onConflict((oc) => oc.column('connection').doUpdateSet(set))
        .execute();
    },
    async recordEnabled(connections) {
      if (connections.length === 0) return;
      await db.transaction().execute(async (trx) => {
        for (const { name, enabled } of connections) {
          await trx
            .insertInto('connection_state')
            .values({ ...emptyState(name), enabled: enabled ? 1 : 0 })
            .onConflict((oc) => oc.column('connection').doUpdateSet({ enabled: enabled ? 1 : 0 }))
            .execute();
        }
      });
    },
    async setPaused(connection, pause) {
      const set = { paused_by: pause?.by ?? null, paused_at: pause?.at ?? null };
      await db
        .insertInto('connection_state')
        .values({ ...emptyState(connection), ...set })
        .onConflict((oc) => oc.column('connection').doUpdateSet(set))
        .execute();
    },
  };
}
