/** The outbox: pipeline messages waiting for, or failed at, delivery (dead letters included). */
import { type Kysely, type Selectable, sql } from 'kysely';
import type { Envelope } from '../../model/envelope.ts';
import type { DeadLetterFilter, OutboxMessage, OutboxState, Store, StoreCapabilities } from '../store.ts';
import type { OutboxTable, Tables } from './tables.ts';

/** Ids per UPDATE ... IN (...) statement; well under SQLite's bound-variable limit. */
const IDS_PER_STATEMENT = 500;

export const outboxMessage = (row: Selectable<OutboxTable>): OutboxMessage => ({
  id: row.id,
  connection: row.connection,
  destination: row.destination,
  sourceKey: row.source_key,
  envelope: JSON.parse(row.envelope) as Envelope,
  contentRef: row.content_ref,
  state: row.state as OutboxState,
  attempts: Number(row.attempts),
  nextAttemptAt: row.next_attempt_at === null ? null : Number(row.next_attempt_at),
  lastError: row.last_error,
  createdAt: Number(row.created_at),
  deliveredAt: row.delivered_at === null ? null : Number(row.delivered_at),
  traceParent: row.trace_parent,
  contentUntil: row.content_until === null ? null : Number(row.content_until),
});

/** The email trail's attempt rows for outbox rows just updated: one each, at `now`, with its outcome and detail. */
function attemptsOf(
  rows: ReadonlyArray<Pick<Selectable<OutboxTable>, 'id' | 'connection' | 'source_key' | 'destination'>>,
  now: number,
  outcome: string,
  detail: (id: string) => string | null,
) {
  return rows.map((row) => ({
    outbox_id: row.id,
    connection: row.connection,
    source_key: row.source_key,
    destination: row.destination,
    at: now,
    outcome,
    detail: detail(row.id),
  }));
}

/** Bind parameters per query: well under SQLite's and PostgreSQL's limits. */
const REFS_PER_QUERY = 500;

/** States whose messages need nothing more: their email's raw content can go, and their rows are forgotten in time. */
const SETTLED: readonly OutboxState[] = ['delivered', 'discarded'];

type OutboxQueries = Pick<
  Store,
  | 'claimDue'
  | 'markDelivered'
  | 'markFailed'
  | 'recordReplay'
  | 'claimIds'
  | 'getOutboxMessage'
  | 'listDeadLetters'
  | 'countDeadLetters'
  | 'discardDeadLetters'
  | 'replayDeadLetters'
  | 'outboxDepth'
  | 'releasableContent'
  | 'forgetDelivered'
  | 'referencedContent'
  | 'reopenDelivered'
  | 'expireDeliveredContent'
>;

export function outboxQueries(db: Kysely<Tables>, capabilities: StoreCapabilities): OutboxQueries {
  return {
    async claimDue(now, limit, holder, claimMs, lane) {
      let due = db
        .selectFrom('outbox')
        .select('id')
        .where('state', 'in', ['pending', 'dead'])
        .where('next_attempt_at', '<=', now)
        .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', now)]))
        .orderBy('next_attempt_at')
        .limit(limit);
      if (lane && 'destination' in lane) due = due.where('destination', '=', lane.destination);
      else if (lane?.exceptDestinations.length) due = due.where('destination', 'not in', [...lane.exceptDestinations]);
      if (capabilities.skipLocked) due = due.forUpdate().skipLocked();
      const rows = await db
        .updateTable('outbox')
        .set({ claimed_by: holder, claimed_until: now + claimMs })
        .where('id', 'in', due)
        .returningAll()
        .execute();
      return rows.map(outboxMessage);
    },
    async markDelivered(ids, now, replies, contentUntil = null) {
      if (ids.length === 0) return;
      await db.transaction().execute(async (trx) => {
        for (let at = 0; at < ids.length; at += IDS_PER_STATEMENT) {
          const batch = ids.slice(at, at + IDS_PER_STATEMENT);
          const rows = await trx
            .updateTable('outbox')
            .set({ state: 'delivered', delivered_at: now, claimed_by: null, claimed_until: null, last_error: null, content_until: contentUntil })
            .where('id', 'in', batch)
            .returning(['id', 'connection', 'source_key', 'destination'])
            .execute();
          if (rows.length === 0) continue;
          await trx
            .insertInto('delivery_attempts')
            .values(attemptsOf(rows, now, 'delivered', (id) => replies?.get(id) ?? null))
            .execute();
        }
      });
    },
    async markFailed(failure) {
      await db.transaction().execute(async (trx) => {
        const row = await trx
          .updateTable('outbox')
          .set((eb) => ({
            state: failure.dead ? 'dead' : 'pending',
            attempts: failure.countAttempt === false ? eb.ref('attempts') : eb(eb.ref('attempts'), '+', 1),
            last_error: failure.error,
            last_attempt_at: failure.now,
            next_attempt_at: failure.nextAttemptAt,
            claimed_by: null,
            claimed_until: null,
          }))
          .where('id', '=', failure.id)
          .returning(['id', 'connection', 'source_key', 'destination'])
          .executeTakeFirst();
        if (!row) return;
        await trx
          .insertInto('delivery_attempts')
          .values(attemptsOf([row], failure.now, failure.dead ? 'dead' : 'failed', () => failure.error))
          .execute();
      });
    },
    async recordReplay(ids, now, by) {
      for (let at = 0; at < ids.length; at += IDS_PER_STATEMENT) {
        const batch = ids.slice(at, at + IDS_PER_STATEMENT);
        await db
          .insertInto('delivery_attempts')
          .columns(['outbox_id', 'connection', 'source_key', 'destination', 'at', 'outcome', 'detail'])
          .expression((eb) =>
            eb
              .selectFrom('outbox')
              .select([
                'id',
                'connection',
                'source_key',
                'destination',
                sql<number>`${now}`.as('at'),
                sql<string>`'replayed'`.as('outcome'),
                sql<string>`${by}`.as('detail'),
              ])
              .where('id', 'in', batch)
              // A delivered message is replayed only once reopenDelivered made it pending again.
              .where('state', '!=', 'delivered'),
          )
          .execute();
      }
    },
    async claimIds(ids, now, holder, claimMs) {
      if (ids.length === 0) return [];
      const rows = await db
        .updateTable('outbox')
        .set({ claimed_by: holder, claimed_until: now + claimMs })
        .where('id', 'in', [...ids])
        .where('state', 'in', ['pending', 'dead'])
        .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', now)]))
        .returningAll()
        .execute();
      return rows.map(outboxMessage);
    },
    async reopenDelivered(ids, now) {
      if (ids.length === 0) return [];
      const rows = await db
        .updateTable('outbox')
        .set({ state: 'pending', attempts: 0, next_attempt_at: now, delivered_at: null, last_error: null, claimed_by: null, claimed_until: null })
        .where('id', 'in', [...ids])
        .where('state', '=', 'delivered')
        .where('content_until', '>=', now)
        .returning('id')
        .execute();
      return rows.map((row) => row.id);
    },
    async expireDeliveredContent(now, limit) {
      const rows = await db
        .selectFrom('outbox')
        .select(['id', 'content_ref'])
        .where('content_until', '<', now)
        .where('state', '=', 'delivered')
        .limit(limit)
        .execute();
      if (rows.length === 0) return [];
      const expired: string[] = [];
      for (let at = 0; at < rows.length; at += IDS_PER_STATEMENT) {
        const batch = rows.slice(at, at + IDS_PER_STATEMENT);
        // Only rows still delivered and expired: one replayed meanwhile keeps its content.
        const cleared = await db
          .updateTable('outbox')
          .set({ content_until: null })
          .where(
            'id',
            'in',
            batch.map((row) => row.id),
          )
          .where('state', '=', 'delivered')
          .where('content_until', '<', now)
          .returning('content_ref')
          .execute();
        expired.push(...cleared.map((row) => row.content_ref));
      }
      return expired;
    },
    async getOutboxMessage(id) {
      const row = await db.selectFrom('outbox').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? outboxMessage(row) : undefined;
    },
    async listDeadLetters(options = {}) {
      const rows = await deadLetters(db, options)
        .selectAll()
        .orderBy('created_at')
        .orderBy('connection')
        .orderBy('source_key')
        .orderBy('id')
        .limit(options.limit ?? 1000)
        .offset(options.offset ?? 0)
        .execute();
      return rows.map(outboxMessage);
    },
    async countDeadLetters(filter = {}) {
      const row = await deadLetters(db, filter)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async discardDeadLetters(ids, now, by) {
      if (ids.length === 0) return [];
      return db.transaction().execute(async (trx) => {
        const discarded: OutboxMessage[] = [];
        for (let at = 0; at < ids.length; at += IDS_PER_STATEMENT) {
          const batch = ids.slice(at, at + IDS_PER_STATEMENT);
          // Not one a worker holds right now (a replay): that delivery decides, and it stays a dead letter if it fails.
          const rows = await trx
            .updateTable('outbox')
            .set({ state: 'discarded', delivered_at: now, next_attempt_at: null, claimed_by: null, claimed_until: null })
            .where('id', 'in', batch)
            .where('state', '=', 'dead')
            .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', now)]))
            .returningAll()
            .execute();
          if (rows.length === 0) continue;
          await trx
            .insertInto('delivery_attempts')
            .values(attemptsOf(rows, now, 'discarded', () => by))
            .execute();
          discarded.push(...rows.map(outboxMessage));
        }
        return discarded;
      });
    },
    async replayDeadLetters(ids, now) {
      let query = db.updateTable('outbox').set({ next_attempt_at: now, claimed_by: null, claimed_until: null }).where('state', '=', 'dead');
      if (ids !== 'all') {
        if (ids.length === 0) return 0;
        query = query.where('id', 'in', ids);
      }
      const result = await query.executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
    async outboxDepth(connection, states = ['pending']) {
      let query = db
        .selectFrom('outbox')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('state', 'in', [...states]);
      if (connection) query = query.where('connection', '=', connection);
      const row = await query.executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async releasableContent(limit) {
      // Raw emails whose ledger row is acknowledged and whose pipeline messages are all delivered (or discarded).
      const rows = await db
        .selectFrom('ledger')
        .select(['connection', 'source_key', 'raw_ref'])
        .where('state', '=', 'acknowledged')
        .where('raw_ref', 'is not', null)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('outbox')
                .select('outbox.id')
                .whereRef('outbox.connection', '=', 'ledger.connection')
                .whereRef('outbox.source_key', '=', 'ledger.source_key')
                .where('outbox.state', 'not in', [...SETTLED]),
            ),
          ),
        )
        .limit(limit)
        .execute();
      if (rows.length === 0) return [];
      await db.transaction().execute(async (trx) => {
        for (const row of rows) {
          await trx.updateTable('ledger').set({ raw_ref: null }).where('connection', '=', row.connection).where('source_key', '=', row.source_key).execute();
        }
      });
      return rows.map((row) => row.raw_ref!).filter(Boolean);
    },
    async referencedContent(refs) {
      const found = new Set<string>();
      for (let start = 0; start < refs.length; start += REFS_PER_QUERY) {
        const batch = refs.slice(start, start + REFS_PER_QUERY);
        // A piece's ref begins with its segment's ref and '@': compared by prefix, one length at a time.
        const lengths = [...new Set(batch.map((ref) => ref.length))];
        const rows = await db
          .selectFrom('ledger')
          .select('raw_ref as ref')
          .where((eb) =>
            eb.or([
              eb('raw_ref', 'in', batch),
              ...lengths.map((length) =>
                eb(
                  sql<string>`substr(raw_ref, 1, ${sql.lit(length + 1)})`,
                  'in',
                  batch.filter((ref) => ref.length === length).map((ref) => `${ref}@`),
                ),
              ),
            ]),
          )
          .unionAll(db.selectFrom('outbox').select('content_ref as ref').where('content_ref', 'in', batch))
          .execute();
        for (const row of rows) if (row.ref) found.add(row.ref.includes('@') ? row.ref.slice(0, row.ref.indexOf('@')) : row.ref);
      }
      return found;
    },
    async forgetDelivered(before, limit) {
      // Rows whose content is still kept wait for expireDeliveredContent to let it go first.
      const old = (
        await db
          .selectFrom('outbox')
          .select('id')
          .where('state', 'in', [...SETTLED])
          .where('delivered_at', '<', before)
          .where('content_until', 'is', null)
          .limit(limit)
          .execute()
      ).map((row) => row.id);
      if (old.length === 0) return 0;
      // The trail of a forgotten pipeline message goes with it; its email's ledger row stays.
      return db.transaction().execute(async (trx) => {
        let deleted = 0;
        for (let at = 0; at < old.length; at += IDS_PER_STATEMENT) {
          const batch = old.slice(at, at + IDS_PER_STATEMENT);
          await trx.deleteFrom('delivery_attempts').where('outbox_id', 'in', batch).execute();
          const result = await trx
            .deleteFrom('outbox')
            .where('id', 'in', batch)
            .where('state', 'in', [...SETTLED])
            .executeTakeFirst();
          deleted += Number(result.numDeletedRows);
        }
        return deleted;
      });
    },
  };
}

/** The dead letters a filter takes. */
function deadLetters(db: Kysely<Tables>, filter: DeadLetterFilter) {
  let query = db.selectFrom('outbox').where('state', '=', 'dead');
  if (filter.connection) query = query.where('connection', '=', filter.connection);
  if (filter.destination) query = query.where('destination', '=', filter.destination);
  if (filter.sourceKey) query = query.where('source_key', '=', filter.sourceKey);
  return query;
}
