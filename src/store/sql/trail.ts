/**
 * The email trail's reads: emails found by Message-ID, sender, subject words, date, connection
 * and state, and one email's whole trail (its ledger row, pipeline messages, delivery attempts).
 *
 * An email's state comes from its pipeline messages still in the outbox: a dead letter among
 * them makes it `dead`, one waiting after a failed attempt `retrying`, one not tried yet
 * `pending`; none of those (all delivered, or forgotten after `outbox.keepDelivered`) is
 * `delivered`, and an email the filter left out is `filtered`.
 */
import { type ExpressionBuilder, type Kysely, type Selectable, sql } from 'kysely';
import type { SourceKey } from '../../model/source-key.ts';
import type { DeliveryAttempt, Store, TrailEmail, TrailQuery, TrailState } from '../store.ts';
import { outboxMessage } from './outbox.ts';
import type { LedgerTable, Tables } from './tables.ts';

export const DEFAULT_TRAIL_LIMIT = 50;
export const MAX_TRAIL_LIMIT = 500;

/** LIKE's own characters in a user's words match themselves (escaped with a backslash, named as the escape: SQLite has none by default). */
const likeEscaped = (text: string): string => `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
const contains = (column: string, text: string) => sql<boolean>`lower(coalesce(${sql.ref(column)}, '')) like ${likeEscaped(text)} escape '\\'`;
const words = (text: string): string[] => text.split(/\s+/).filter(Boolean);

type LedgerRef = ExpressionBuilder<Tables, 'ledger'>;

/**
 * Whether the email has a pipeline message in the outbox in `state` (and tried or not): its key
 * among those messages' keys, an uncorrelated subquery, so the few matching outbox rows lead and
 * the ledger is looked up by its primary key. A correlated EXISTS here made SQLite walk the whole
 * ledger newest first, probing the outbox by its state index for every row (4 s for state = dead
 * over a million emails, 154 s for retrying: `npm run bench -- trail`).
 */
function hasMessage(eb: LedgerRef, state: 'pending' | 'dead', tried?: boolean) {
  let keys = eb.selectFrom('outbox').select(['outbox.connection', 'outbox.source_key']).where('outbox.state', '=', state);
  if (tried !== undefined) keys = keys.where('outbox.attempts', tried ? '>' : '=', 0);
  return eb(eb.refTuple('ledger.connection', 'ledger.source_key'), 'in', keys.$asTuple('connection', 'source_key'));
}

/**
 * Whether the email has no pipeline message in `state`: NOT EXISTS, which PostgreSQL runs as an
 * anti-join however many such messages there are (NOT IN would need them all in memory). It is
 * checked on the rows the other conditions leave (after hasMessage's, a handful).
 */
function hasNoMessage(eb: LedgerRef, state: 'pending' | 'dead', tried?: boolean) {
  let query = eb
    .selectFrom('outbox')
    .select('outbox.id')
    .whereRef('outbox.connection', '=', 'ledger.connection')
    .whereRef('outbox.source_key', '=', 'ledger.source_key')
    .where('outbox.state', '=', state);
  if (tried !== undefined) query = query.where('outbox.attempts', tried ? '>' : '=', 0);
  return eb.not(eb.exists(query));
}

function stateCondition(eb: LedgerRef, state: TrailState) {
  switch (state) {
    case 'filtered':
      return eb('ledger.state', '=', 'filtered');
    case 'dead':
      return hasMessage(eb, 'dead');
    case 'retrying':
      return eb.and([hasNoMessage(eb, 'dead'), hasMessage(eb, 'pending', true)]);
    case 'pending':
      return eb.and([hasNoMessage(eb, 'dead'), hasNoMessage(eb, 'pending', true), hasMessage(eb, 'pending', false)]);
    case 'delivered':
      return eb.and([eb('ledger.state', '<>', 'filtered'), hasNoMessage(eb, 'dead'), hasNoMessage(eb, 'pending')]);
  }
}

function stateOf(row: Selectable<LedgerTable>, messages: Array<{ state: string; attempts: number }>): TrailState {
  if (row.state === 'filtered') return 'filtered';
  if (messages.some((m) => m.state === 'dead')) return 'dead';
  if (messages.some((m) => m.state === 'pending' && m.attempts > 0)) return 'retrying';
  if (messages.some((m) => m.state === 'pending')) return 'pending';
  return 'delivered';
}

function toTrailEmail(row: Selectable<LedgerTable>, messages: Array<{ state: string; attempts: number }>): TrailEmail {
  const num = (value: number | string | null): number | null => (value === null ? null : Number(value));
  return {
    connection: row.connection,
    sourceKey: row.source_key,
    key: JSON.parse(row.key_json) as SourceKey,
    messageId: row.message_id,
    from: row.from_address,
    subject: row.subject,
    sentAt: num(row.sent_at),
    size: num(row.size),
    pickedUpAt: Number(row.emitted_at),
    acknowledgedAt: num(row.acknowledged_at),
    acknowledgement: row.acknowledgement,
    state: stateOf(row, messages),
    ...(row.state === 'filtered' ? { filtered: { condition: row.filtered_condition ?? '', reason: row.filtered_reason ?? '' } } : {}),
    messages: messages.length,
  };
}

export function trailQueries(db: Kysely<Tables>): Pick<Store, 'searchEmails' | 'emailTrail'> {
  /** The outbox rows of these emails, by email. */
  async function messagesOf(rows: Array<Selectable<LedgerTable>>): Promise<Map<string, Array<{ state: string; attempts: number }>>> {
    const byEmail = new Map<string, Array<{ state: string; attempts: number }>>();
    if (rows.length === 0) return byEmail;
    const found = await db
      .selectFrom('outbox')
      .select(['connection', 'source_key', 'state', 'attempts'])
      .where((eb) => eb.or(rows.map((row) => eb.and([eb('connection', '=', row.connection), eb('source_key', '=', row.source_key)]))))
      .execute();
    for (const message of found) {
      const key = `${message.connection}\n${message.source_key}`;
      const list = byEmail.get(key) ?? [];
      list.push({ state: message.state, attempts: Number(message.attempts) });
      byEmail.set(key, list);
    }
    return byEmail;
  }

  return {
    async searchEmails(query: TrailQuery) {
      const limit = Math.min(Math.max(1, query.limit ?? DEFAULT_TRAIL_LIMIT), MAX_TRAIL_LIMIT);
      let select = db.selectFrom('ledger').selectAll();
      if (query.connection) select = select.where('connection', '=', query.connection);
      if (query.messageId) {
        const bare = query.messageId.trim().replace(/^<|>$/g, '');
        select = select.where('message_id', 'in', [bare, `<${bare}>`]);
      }
      if (query.since !== undefined) select = select.where('emitted_at', '>=', query.since);
      if (query.until !== undefined) select = select.where('emitted_at', '<', query.until);
      if (query.from?.trim()) select = select.where(contains('from_address', query.from.trim()));
      for (const word of words(query.subject ?? '')) select = select.where(contains('subject', word));
      for (const word of words(query.text ?? '')) {
        select = select.where((eb) => eb.or([contains('subject', word), contains('from_address', word), contains('message_id', word)]));
      }
      const state = query.state;
      if (state) select = select.where((eb) => stateCondition(eb, state));
      const after = query.after;
      if (after) {
        // Keyset paging: the rows after `after` in this order, so a later page costs no more
        // than the first (an offset would walk every row before it again); the plain bound lets
        // ledger_by_emitted_at start there.
        select = select
          .where('emitted_at', '<=', after.pickedUpAt)
          .where((eb) =>
            eb.or([
              eb('emitted_at', '<', after.pickedUpAt),
              eb.and([
                eb('emitted_at', '=', after.pickedUpAt),
                eb.or([eb('connection', '>', after.connection), eb.and([eb('connection', '=', after.connection), eb('source_key', '>', after.sourceKey)])]),
              ]),
            ]),
          );
      }
      // One more than asked for says whether more follow, without counting them all.
      const found = await select
        .orderBy('emitted_at', 'desc')
        .orderBy('connection')
        .orderBy('source_key')
        .limit(limit + 1)
        .execute();
      const rows = found.slice(0, limit);
      const messages = await messagesOf(rows);
      return { emails: rows.map((row) => toTrailEmail(row, messages.get(`${row.connection}\n${row.source_key}`) ?? [])), more: found.length > limit };
    },

    async emailTrail(connection, sourceKey) {
      const row = await db.selectFrom('ledger').selectAll().where('connection', '=', connection).where('source_key', '=', sourceKey).executeTakeFirst();
      if (!row) return undefined;
      const [outbox, attempts] = await Promise.all([
        db.selectFrom('outbox').selectAll().where('connection', '=', connection).where('source_key', '=', sourceKey).execute(),
        db.selectFrom('delivery_attempts').selectAll().where('connection', '=', connection).where('source_key', '=', sourceKey).orderBy('at').execute(),
      ]);
      const messages = outbox.map(outboxMessage).sort((a, b) => a.envelope.partIndex - b.envelope.partIndex);
      return {
        email: toTrailEmail(
          row,
          outbox.map((message) => ({ state: message.state, attempts: Number(message.attempts) })),
        ),
        messages,
        attempts: attempts.map(
          (attempt): DeliveryAttempt => ({
            outboxId: attempt.outbox_id,
            destination: attempt.destination,
            at: Number(attempt.at),
            outcome: attempt.outcome as DeliveryAttempt['outcome'],
            detail: attempt.detail,
          }),
        ),
      };
    },
  };
}
