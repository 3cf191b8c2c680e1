/** Leases: one row per connection; acquiring is one atomic upsert that bumps the fencing token. */
import type { Kysely, Transaction } from 'kysely';
import { PostroomError } from '../../model/errors.ts';
import type { Lease, Store } from '../store.ts';
import type { LeasesTable, Tables } from './tables.ts';

const toLease = (row: LeasesTable): Lease => ({
  connection: row.connection,
  holder: row.holder,
  token: Number(row.token),
  expiresAt: Number(row.expires_at),
});

/**
 * Fencing: inside the caller's transaction, touch the lease row only if `lease` is still the
 * current grant and has not expired. The UPDATE takes the row lock on PostgreSQL (and the write
 * lock on SQLite), so no other worker can acquire the lease between this check and the commit.
 */
export async function assertLeaseHeld(trx: Transaction<Tables> | Kysely<Tables>, lease: Lease, now: number): Promise<void> {
  const row = await trx
    .updateTable('leases')
    .set((eb) => ({ token: eb.ref('token') }))
    .where('connection', '=', lease.connection)
    .where('token', '=', lease.token)
    .where('expires_at', '>', now)
    .returning('token')
    .executeTakeFirst();
  if (!row) {
    throw new PostroomError('LEASE_LOST', `connection "${lease.connection}" (token ${lease.token}) was taken over or expired`);
  }
}

export function leaseQueries(db: Kysely<Tables>): Pick<Store, 'acquireLease' | 'renewLease' | 'releaseLease' | 'listLeases'> {
  return {
    async acquireLease(connection, holder, ttlMs, now) {
      const row = await db
        .insertInto('leases')
        .values({ connection, holder, token: 1, expires_at: now + ttlMs, acquired_at: now })
        .onConflict((oc) =>
          oc
            .column('connection')
            .doUpdateSet((eb) => ({
              holder: eb.ref('excluded.holder'),
              token: eb(eb.ref('leases.token'), '+', 1),
              expires_at: eb.ref('excluded.expires_at'),
              acquired_at: eb.ref('excluded.acquired_at'),
            }))
            .where((eb) => eb.or([eb('leases.expires_at', '<=', now), eb('leases.holder', '=', holder)])),
        )
        .returningAll()
        .executeTakeFirst();
      return row ? toLease(row) : null;
    },
    async renewLease(lease, ttlMs, now) {
      const row = await db
        .updateTable('leases')
        .set({ expires_at: now + ttlMs })
        .where('connection', '=', lease.connection)
        .where('token', '=', lease.token)
        .where('expires_at', '>', now)
        .returningAll()
        .executeTakeFirst();
      return row ? toLease(row) : null;
    },
    async releaseLease(lease) {
      // Expire rather than delete, so the token keeps counting up for the next holder.
      await db.updateTable('leases').set({ expires_at: 0 }).where('connection', '=', lease.connection).where('token', '=', lease.token).execute();
    },
    async listLeases() {
      const rows = await db.selectFrom('leases').selectAll().orderBy('connection').execute();
      return rows.map(toLease);
    },
  };
}
