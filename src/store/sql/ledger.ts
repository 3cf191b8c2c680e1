/** The ledger of emails seen, the outbox rows written with them, and the source cursor. */
import { type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import { faultPoint } from '../../model/fault-points.ts';
import { RESCAN_CURSOR, type SourceCursor, type SourceKey } from '../../model/source-key.ts';
import type { EmailCommit, Lease, LedgerEntry, LedgerState, Store } from '../store.ts';
import { assertLeaseHeld } from './leases.ts';
import type { LedgerTable, Tables } from './tables.ts';

/** Keys per DELETE/UPDATE ... IN (...) statement; well under SQLite's bound-variable limit. */
const KEYS_PER_STATEMENT = 500;

const toEntry = (row: Selectable<LedgerTable>): LedgerEntry => ({
  connection: row.connection,
  sourceKey: row.source_key,
  key: JSON.parse(row.key_json) as SourceKey,
  fingerprint: row.fingerprint,
  messageId: row.message_id,
  rawSha256: row.raw_sha256,
  rawRef: row.raw_ref,
  state: row.state as LedgerState,
  emittedAt: Number(row.emitted_at),
  acknowledgedAt: row.acknowledged_at === null ? null : Number(row.acknowledged_at),
  ...(row.state === 'filtered' ? { filtered: { condition: row.filtered_condition ?? '', reason: row.filtered_reason ?? '' } } : {}),
});

/** Saves a connection's source cursor (inside the caller's transaction). */
async function writeCursor(trx: Transaction<Tables>, connection: string, cursor: SourceCursor, now: number): Promise<void> {
  await trx
    .insertInto('cursors')
    .values({ connection, cursor: JSON.stringify(cursor), updated_at: now })
    .onConflict((oc) => oc.column('connection').doUpdateSet((eb) => ({ cursor: eb.ref('excluded.cursor'), updated_at: eb.ref('excluded.updated_at') })))
    .execute();
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * One email's ledger row and outbox rows (inside the caller's transaction, lease already checked).
 * 'already-emitted' writes nothing: the ledger has this email with the same fingerprint.
 */
async function writeEmail(trx: Transaction<Tables>, lease: Lease, commit: EmailCommit): Promise<'committed' | 'already-emitted'> {
  const written = await trx
    .insertInto('ledger')
    .values({
      connection: commit.connection,
      source_key: commit.sourceKey,
      key_json: JSON.stringify(commit.key),
      fingerprint: commit.fingerprint,
      message_id: commit.messageId,
      raw_sha256: commit.rawSha256,
      raw_ref: commit.filtered ? null : commit.rawRef,
      state: commit.filtered ? 'filtered' : 'emitted',
      emitted_at: commit.now,
      acknowledged_at: null,
      token: lease.token,
      filtered_condition: commit.filtered?.condition ?? null,
      filtered_reason: commit.filtered?.reason ?? null,
      from_address: commit.summary?.from ?? null,
      subject: commit.summary?.subject ?? null,
      sent_at: commit.summary?.sentAt ?? null,
      size: commit.summary?.size ?? null,
    })
    // A reused POP3 UIDL with a new fingerprint replaces the old row: it is a new email.
    // The same email again (same fingerprint: a run that overlapped another) is refused.
    .onConflict((oc) =>
      oc
        .columns(['connection', 'source_key'])
        .doUpdateSet((eb) => ({
          key_json: eb.ref('excluded.key_json'),
          fingerprint: eb.ref('excluded.fingerprint'),
          message_id: eb.ref('excluded.message_id'),
          raw_sha256: eb.ref('excluded.raw_sha256'),
          raw_ref: eb.ref('excluded.raw_ref'),
          state: eb.ref('excluded.state'),
          emitted_at: eb.ref('excluded.emitted_at'),
          acknowledged_at: null,
          token: eb.ref('excluded.token'),
          filtered_condition: eb.ref('excluded.filtered_condition'),
          filtered_reason: eb.ref('excluded.filtered_reason'),
          from_address: eb.ref('excluded.from_address'),
          subject: eb.ref('excluded.subject'),
          sent_at: eb.ref('excluded.sent_at'),
          size: eb.ref('excluded.size'),
          acknowledgement: null,
        }))
        // A filtered email judged again (rescan, or a changed filter) takes its new verdict.
        .where(sql<boolean>`coalesce(ledger.fingerprint, '') <> coalesce(excluded.fingerprint, '') or ledger.state = 'filtered'`),
    )
    .returning('source_key')
    .executeTakeFirst();
  if (!written) return 'already-emitted';
  for (const batch of chunks(commit.messages, 50)) {
    await trx
      .insertInto('outbox')
      .values(
        batch.map((message) => ({
          id: message.envelope.id,
          connection: commit.connection,
          destination: message.destination,
          source_key: commit.sourceKey,
          envelope: JSON.stringify(message.envelope),
          content_ref: message.contentRef,
          state: 'pending',
          next_attempt_at: commit.now,
          last_error: null,
          created_at: commit.now,
          delivered_at: null,
          claimed_by: null,
          claimed_until: null,
          trace_parent: message.traceParent ?? null,
        })),
      )
      // Same id = same pipeline message (a re-emitted reused key): deliver the new content.
      .onConflict((oc) =>
        oc.column('id').doUpdateSet((eb) => ({
          envelope: eb.ref('excluded.envelope'),
          content_ref: eb.ref('excluded.content_ref'),
          state: 'pending',
          attempts: 0,
          next_attempt_at: eb.ref('excluded.next_attempt_at'),
          last_error: null,
          delivered_at: null,
          trace_parent: eb.ref('excluded.trace_parent'),
        })),
      )
      .execute();
  }
  faultPoint('in-transaction');
  return 'committed';
}

type LedgerQueries = Pick<
  Store,
  | 'findLedger'
  | 'findLedgerEntries'
  | 'findByContent'
  | 'commitEmail'
  | 'commitEmails'
  | 'recordAlias'
  | 'pendingAcknowledgements'
  | 'markAcknowledged'
  | 'pruneLedger'
  | 'forgetFiltered'
  | 'filteredCounts'
  | 'getCursor'
>;

export function ledgerQueries(db: Kysely<Tables>): LedgerQueries {
  const commitEmails: Store['commitEmails'] = async (lease, commits) => {
    if (commits.length === 0) return [];
    return db.transaction().execute(async (trx) => {
      await assertLeaseHeld(trx, lease, Math.max(...commits.map((commit) => commit.now)));
      const outcomes: Array<'committed' | 'already-emitted'> = [];
      for (const commit of commits) outcomes.push(await writeEmail(trx, lease, commit));
      // One cursor for the group: the last one given (after an email is held back, none has one).
      const last = [...commits].reverse().find((commit) => commit.cursor);
      if (last?.cursor) await writeCursor(trx, last.connection, last.cursor, last.now);
      return outcomes;
    });
  };
  return {
    async findLedger(connection, sourceKey) {
      const row = await db.selectFrom('ledger').selectAll().where('connection', '=', connection).where('source_key', '=', sourceKey).executeTakeFirst();
      return row ? toEntry(row) : undefined;
    },
    async findByContent(connection, messageId, rawSha256) {
      // An email a filter left out was never emitted: it is no match for one to recognise.
      let query = db.selectFrom('ledger').selectAll().where('connection', '=', connection).where('raw_sha256', '=', rawSha256).where('state', '<>', 'filtered');
      query = messageId === null ? query.where('message_id', 'is', null) : query.where('message_id', '=', messageId);
      const row = await query.executeTakeFirst();
      return row ? toEntry(row) : undefined;
    },
    async findLedgerEntries(connection, sourceKeys) {
      const found = new Map<string, LedgerEntry>();
      for (const batch of chunks([...sourceKeys], KEYS_PER_STATEMENT)) {
        const rows = await db.selectFrom('ledger').selectAll().where('connection', '=', connection).where('source_key', 'in', batch).execute();
        for (const row of rows) found.set(row.source_key, toEntry(row));
      }
      return found;
    },
    async commitEmail(lease, commit) {
      const [outcome] = await commitEmails(lease, [commit]);
      return outcome!;
    },
    commitEmails,
    async recordAlias(lease, alias) {
      await db.transaction().execute(async (trx) => {
        await assertLeaseHeld(trx, lease, alias.now);
        await trx
          .insertInto('ledger')
          .values({
            connection: alias.connection,
            source_key: alias.sourceKey,
            key_json: JSON.stringify(alias.key),
            fingerprint: alias.of.fingerprint,
            message_id: alias.of.messageId,
            raw_sha256: alias.of.rawSha256,
            raw_ref: null,
            state: 'emitted',
            emitted_at: alias.now,
            acknowledged_at: null,
            token: lease.token,
          })
          .onConflict((oc) => oc.columns(['connection', 'source_key']).doNothing())
          .execute();
        if (alias.cursor) {
          await writeCursor(trx, alias.connection, alias.cursor, alias.now);
        }
      });
    },
    async pendingAcknowledgements(connection) {
      const rows = await db
        .selectFrom('ledger')
        .selectAll()
        .where('connection', '=', connection)
        .where('state', '=', 'emitted')
        .orderBy('emitted_at')
        .execute();
      return rows.map(toEntry);
    },
    async markAcknowledged(lease, connection, sourceKeys, now, how) {
      if (sourceKeys.length === 0) return;
      await db.transaction().execute(async (trx) => {
        await assertLeaseHeld(trx, lease, now);
        for (const batch of chunks(sourceKeys, KEYS_PER_STATEMENT)) {
          await trx
            .updateTable('ledger')
            .set({ state: 'acknowledged', acknowledged_at: now, ...(how === undefined ? {} : { acknowledgement: how }) })
            .where('connection', '=', connection)
            .where('source_key', 'in', batch)
            // A filtered email's treatment (markRead, moveTo, delete) leaves it filtered; one
            // recorded earlier in a long poll keeps the time it was acknowledged.
            .where('state', 'not in', ['filtered', 'acknowledged'])
            .execute();
        }
      });
    },
    async pruneLedger(connection, keep, protocol) {
      const rows = await db
        .selectFrom('ledger')
        .select('source_key')
        .where('connection', '=', connection)
        .where('state', 'in', ['acknowledged', 'filtered'])
        .where('source_key', 'like', `${protocol}:%`)
        .execute();
      const gone = rows.map((row) => row.source_key).filter((key) => !keep.has(key));
      for (const batch of chunks(gone, KEYS_PER_STATEMENT)) {
        await db.deleteFrom('ledger').where('connection', '=', connection).where('source_key', 'in', batch).where('raw_ref', 'is', null).execute();
      }
      return gone.length;
    },
    async forgetFiltered(connection, now) {
      return db.transaction().execute(async (trx) => {
        const result = await trx.deleteFrom('ledger').where('connection', '=', connection).where('state', '=', 'filtered').executeTakeFirst();
        // An IMAP cursor has passed them: from the rescan cursor the next listing starts at the
        // folder's first unseen email and judges each without the server's search, and the ledger
        // keeps everything emitted from being emitted again.
        await writeCursor(trx, connection, RESCAN_CURSOR, now);
        return Number(result.numDeletedRows);
      });
    },
    async filteredCounts() {
      const rows = await db
        .selectFrom('ledger')
        .select(['connection', 'filtered_condition', (eb) => eb.fn.countAll<number | string>().as('emails')])
        .where('state', '=', 'filtered')
        .groupBy(['connection', 'filtered_condition'])
        .execute();
      return rows.map((row) => ({ connection: row.connection, condition: row.filtered_condition ?? '', emails: Number(row.emails) }));
    },
    async getCursor(connection) {
      const row = await db.selectFrom('cursors').select('cursor').where('connection', '=', connection).executeTakeFirst();
      return row ? (JSON.parse(row.cursor) as Record<string, unknown>) : undefined;
    },
  };
}
