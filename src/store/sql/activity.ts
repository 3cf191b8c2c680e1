/** Aggregates for the status board and /metrics: one query each, whatever the number of connections. */
import { sql, type Kysely } from 'kysely';
import { PostroomError } from '../../model/errors.ts';
import type { OutboxCounts, Store } from '../store.ts';
import type { Tables } from './tables.ts';

type ActivityQueries = Pick<Store, 'pollActivity' | 'outboxCounts'>;

export function activityQueries(db: Kysely<Tables>): ActivityQueries {
  return {
    async pollActivity(since, bucketMs) {
      if (!Number.isInteger(bucketMs) || bucketMs <= 0) throw new PostroomError('STORE_FAILED', `bucket size must be a positive whole number of ms, not ${bucketMs}`);
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
        .groupBy(bucket)
        .orderBy(bucket)
        .execute();
      return rows.map((row) => ({ at: Number(row.bucket) * bucketMs, polls: Number(row.polls), emails: Number(row.emails ?? 0), messages: Number(row.messages ?? 0) }));
    },
    async outboxCounts() {
      const rows = await db
        .selectFrom('outbox')
        .select(['connection', 'state', (eb) => eb.fn.countAll<number>().as('n')])
        .where('state', 'in', ['pending', 'dead'])
        .groupBy(['connection', 'state'])
        .execute();
      const byConnection = new Map<string, OutboxCounts>();
      for (const row of rows) {
        const counts = byConnection.get(row.connection) ?? { connection: row.connection, pending: 0, dead: 0 };
        if (row.state === 'dead') counts.dead = Number(row.n);
        else counts.pending = Number(row.n);
        byConnection.set(row.connection, counts);
      }
      return [...byConnection.values()].sort((a, b) => a.connection.localeCompare(b.connection));
    },
  };
}
