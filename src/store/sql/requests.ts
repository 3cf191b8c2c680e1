/** Requests counted per account in time buckets (a request budget every worker shares), and progress figures for status. */
import type { Kysely } from 'kysely';
import { PostroomError } from '../../model/errors.ts';
import type { Store } from '../store.ts';
import type { Tables } from './tables.ts';

/** Buckets older than this many bucket lengths are deleted as new ones are written. */
const KEEP_BUCKETS = 30;

type RequestQueries = Pick<Store, 'countRequests' | 'requestBuckets' | 'recordBacklog' | 'emailsSince'>;

export function requestQueries(db: Kysely<Tables>): RequestQueries {
  return {
    async countRequests(account, requests, now, bucketMs) {
      if (!Number.isInteger(bucketMs) || bucketMs <= 0)
        throw new PostroomError('STORE_FAILED', `bucket size must be a positive whole number of ms, not ${bucketMs}`);
      const at = Math.floor(now / bucketMs) * bucketMs;
      await db.transaction().execute(async (trx) => {
        await trx
          .insertInto('request_counts')
          .values({ account, bucket_at: at, requests })
          .onConflict((oc) =>
            oc.columns(['account', 'bucket_at']).doUpdateSet((eb) => ({ requests: eb(eb.ref('request_counts.requests'), '+', eb.ref('excluded.requests')) })),
          )
          .execute();
        await trx
          .deleteFrom('request_counts')
          .where('account', '=', account)
          .where('bucket_at', '<', at - KEEP_BUCKETS * bucketMs)
          .execute();
      });
    },
    async requestBuckets(account, since) {
      const rows = await db
        .selectFrom('request_counts')
        .select(['bucket_at', 'requests'])
        .where('account', '=', account)
        .where('bucket_at', '>=', since)
        .orderBy('bucket_at')
        .execute();
      return rows.map((row) => ({ at: Number(row.bucket_at), requests: Number(row.requests) }));
    },
    async recordBacklog(connection, backlog, now) {
      await db
        .insertInto('connection_state')
        .values({ connection, next_due_at: null, consecutive_failures: 0, last_poll_id: null, emails_total: 0, messages_total: 0, backlog, backlog_at: now })
        .onConflict((oc) => oc.column('connection').doUpdateSet({ backlog, backlog_at: now }))
        .execute();
    },
    async emailsSince(since) {
      const rows = await db
        .selectFrom('ledger')
        .select(['connection', (eb) => eb.fn.countAll<number>().as('n')])
        .where('emitted_at', '>=', since)
        .groupBy('connection')
        .execute();
      return new Map(rows.map((row) => [row.connection, Number(row.n)]));
    },
  };
}
