/** Aggregates for the status board and /metrics: one query each, whatever the number of connections. */
import { type ExpressionBuilder, type Kysely, sql } from 'kysely';
import { PostroomError } from '../../model/errors.ts';
import type { DeliveryHealth, OutboxCounts, Store } from '../store.ts';
import type { Tables } from './tables.ts';

type ActivityQueries = Pick<Store, 'pollActivity' | 'outboxCounts' | 'deliveryHealth'>;

export function activityQueries(db: Kysely<Tables>): ActivityQueries {
  return {
    async pollActivity(since, bucketMs, connection) {
      if (!Number.isInteger(bucketMs) || bucketMs <= 0)
        throw new PostroomError('STORE_FAILED', `bucket size must be a positive whole number of ms, not ${bucketMs}`);
      // A literal (checked above), not a bind parameter: PostgreSQL would see `$1` in the select
      // list and `$3` in GROUP BY as two different expressions. Integer division on both backends.
      const bucket = sql<number>`(started_at / ${sql.lit(bucketMs)})`;
      const rows = await db
        .selectFrom('polls')
        .select([
          bucket.as('bucket'),
          (eb) => eb.fn.countAll<number>().as('polls'),
          (eb) => eb.fn.sum<number>('emails').as('emails'),
          (eb) => eb.fn.sum<number>('messages').as('messages'),
        ])
        .where('started_at', '>=', since)
        .$if(connection !== undefined, (query) => query.where('connection', '=', connection!))
        .groupBy(bucket)
        .orderBy(bucket)
        .execute();
      return rows.map((row) => ({
        at: Number(row.bucket) * bucketMs,
        polls: Number(row.polls),
        emails: Number(row.emails ?? 0),
        messages: Number(row.messages ?? 0),
      }));
    },
    async outboxCounts() {
      const rows = await db
        .selectFrom('outbox')
        .select(['connection', 'state', (eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.min('created_at').as('oldest')])
        .where('state', 'in', ['pending', 'dead'])
        .groupBy(['connection', 'state'])
        .execute();
      const byConnection = new Map<string, OutboxCounts>();
      for (const row of rows) {
        const counts = byConnection.get(row.connection) ?? { connection: row.connection, pending: 0, dead: 0, oldestAt: null };
        if (row.state === 'dead') counts.dead = Number(row.n);
        else counts.pending = Number(row.n);
        const oldest = row.oldest === null ? null : Number(row.oldest);
        if (oldest !== null && (counts.oldestAt === null || oldest < counts.oldestAt)) counts.oldestAt = oldest;
        byConnection.set(row.connection, counts);
      }
      return [...byConnection.values()].sort((a, b) => a.connection.localeCompare(b.connection));
    },
    async deliveryHealth() {
      const failing = (eb: ExpressionBuilder<Tables, 'outbox'>) =>
        eb.or([eb('state', '=', 'dead'), eb.and([eb('state', '=', 'pending'), eb('attempts', '>', 0)])]);
      const rows = await db
        .selectFrom('outbox')
        .select([
          'connection',
          'destination',
          (eb) => eb.fn.sum<number>(eb.case().when('state', '=', 'dead').then(1).else(0).end()).as('dead'),
          (eb) => eb.fn.sum<number>(eb.case().when('state', '=', 'pending').then(1).else(0).end()).as('retrying'),
          (eb) => eb.fn.max('last_attempt_at').as('last_at'),
        ])
        .where(failing)
        .groupBy(['connection', 'destination'])
        .execute();
      const health: DeliveryHealth[] = [];
      for (const row of rows) {
        // The error of the latest attempt in the group (a handful of groups: one query each).
        const last = await db
          .selectFrom('outbox')
          .select(['last_error', 'last_attempt_at'])
          .where('connection', '=', row.connection)
          .where('destination', '=', row.destination)
          .where(failing)
          .orderBy('last_attempt_at', 'desc')
          .limit(1)
          .executeTakeFirst();
        health.push({
          connection: row.connection,
          destination: row.destination,
          retrying: Number(row.retrying ?? 0),
          dead: Number(row.dead ?? 0),
          lastError: last?.last_error ?? null,
          lastErrorAt: last?.last_attempt_at === null || last?.last_attempt_at === undefined ? null : Number(last.last_attempt_at),
        });
      }
      return health.sort((a, b) => a.connection.localeCompare(b.connection) || a.destination.localeCompare(b.destination));
    },
  };
}
