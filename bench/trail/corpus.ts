/**
 * A store's worth of email trail, made up deterministically: `emails` emails over `days` days
 * across `connections` connections, as the store's own rows (ledger, outbox, delivery_attempts),
 * in batches, oldest first. What it looks like:
 *
 * - a few thousand senders over a few hundred companies, a few of them sending much of the mail
 *   (the ERP robot, the big supplier), each email with a Message-ID, a subject with a reference
 *   number of its own (so a reference matches one email), a size, a Date a little before pickup;
 * - about 4% left out by a filter (newsletters, bounces, auto-replies): ledger state `filtered`;
 * - the rest acknowledged (marked read or moved), about 1.3 pipeline messages each; those picked
 *   up within the last `keptDays` still in the outbox with their delivery attempts (older ones
 *   delivered and forgotten, as `outbox.keepDelivered` does), a few dead letters among them and
 *   a few older ones never replayed, the last hour's with some waiting for a retry or not yet tried.
 *
 * The probes are emails picked along the way for the searches to look for.
 */
import { pipelineMessageId } from '../../src/model/envelope.ts';
import { seededRandom } from '../../test/support/seeded-random.ts';

export interface CorpusOptions {
  emails: number;
  connections: number;
  senders: number;
  days: number;
  /** Pipeline messages picked up within this many days are still in the outbox. */
  keptDays: number;
  /** The newest email's pickup time (epoch ms). */
  now: number;
}

export type Row = Array<string | number | null>;

export interface Batch {
  ledger: Row[];
  outbox: Row[];
  attempts: Row[];
}

/** Table columns in the order the rows give them, with their PostgreSQL types (for unnest). */
export const COLUMNS = {
  ledger: {
    connection: 'text',
    source_key: 'text',
    key_json: 'text',
    fingerprint: 'text',
    message_id: 'text',
    raw_sha256: 'text',
    raw_ref: 'text',
    state: 'text',
    emitted_at: 'int8',
    acknowledged_at: 'int8',
    token: 'int8',
    filtered_condition: 'text',
    filtered_reason: 'text',
    from_address: 'text',
    subject: 'text',
    sent_at: 'int8',
    size: 'int8',
    acknowledgement: 'text',
  },
  outbox: {
    id: 'text',
    connection: 'text',
    destination: 'text',
    source_key: 'text',
    envelope: 'text',
    content_ref: 'text',
    state: 'text',
    attempts: 'int4',
    next_attempt_at: 'int8',
    last_error: 'text',
    created_at: 'int8',
    delivered_at: 'int8',
    claimed_by: 'text',
    claimed_until: 'int8',
    last_attempt_at: 'int8',
    trace_parent: 'text',
  },
  delivery_attempts: {
    outbox_id: 'text',
    connection: 'text',
    source_key: 'text',
    destination: 'text',
    at: 'int8',
    outcome: 'text',
    detail: 'text',
  },
} as const;

export type TableName = keyof typeof COLUMNS;

/** One email the searches look for. */
export interface Probe {
  connection: string;
  sourceKey: string;
  messageId: string;
  /** The sender's address, without the display name. */
  address: string;
  /** The company's name as in the sender's domain (a free-text word). */
  company: string;
  /** The subject's reference number (in this email only). */
  reference: string;
  emittedAt: number;
  /** Still has pipeline messages in the outbox. */
  kept: boolean;
}

export interface CorpusSummary {
  emails: number;
  filtered: number;
  outboxRows: number;
  attemptRows: number;
  deadEmails: number;
  pendingEmails: number;
  distinctSenders: number;
}

const DAY = 86_400_000;
const CONNECTION_NAMES = [
  'invoices',
  'orders',
  'support',
  'purchasing',
  'logistics',
  'claims',
  'returns',
  'quotes',
  'payables',
  'receivables',
  'hr',
  'customs',
  'warehouse-north',
  'warehouse-south',
  'sales-de',
  'sales-fr',
  'sales-nl',
  'service-desk',
  'contracts',
  'archive',
];
const FIRST = [
  'anna',
  'ben',
  'carla',
  'david',
  'eva',
  'felix',
  'greta',
  'hugo',
  'ines',
  'jan',
  'katrin',
  'lars',
  'mia',
  'nils',
  'olga',
  'paul',
  'rosa',
  'sven',
  'tina',
  'uwe',
];
const LAST = [
  'jansen',
  'schmidt',
  'dubois',
  'rossi',
  'novak',
  'berg',
  'meyer',
  'laurent',
  'visser',
  'kowalski',
  'hansen',
  'moreau',
  'fischer',
  'smit',
  'weber',
];
const ROLES = ['billing', 'invoices', 'accounts', 'orders', 'dispatch', 'noreply', 'sales', 'service', 'ap', 'logistics'];
const SYLLABLES = ['nor', 'del', 'ka', 'tra', 'vin', 'mer', 'lo', 'sto', 'ber', 'fal', 'gri', 'hel', 'mon', 'par', 'quo', 'ros', 'sil', 'tor', 'ul', 'wen'];
const SUFFIXES = ['freight', 'logistics', 'supplies', 'metal', 'parts', 'foods', 'chem', 'trade', 'systems', 'packaging'];
const TLDS = ['example', 'example.com', 'example.de', 'example.nl', 'example.fr'];
const FILTERED = [
  ['newsletters', 'a mailing list (List-Id)'],
  ['bounces', 'a delivery-status report'],
  ['auto-replies', 'an automatic reply (Auto-Submitted)'],
] as const;
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DESTINATIONS = ['erp-webhook', 'archive', 'documents'];

interface Sender {
  from: string;
  address: string;
  company: string;
  domain: string;
}

function makeSenders(count: number, rnd: () => number): Sender[] {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;
  const companies = Array.from({ length: Math.max(1, Math.round(count / 5)) }, (_, i) => {
    const company = `${pick(SYLLABLES)}${pick(SYLLABLES)}${pick(SUFFIXES)}${i % 7 === 0 ? i : ''}`;
    return { company, domain: `${company}.${pick(TLDS)}` };
  });
  return Array.from({ length: count }, (_, i) => {
    const { company, domain } = companies[i % companies.length]!;
    const first = pick(FIRST);
    const last = pick(LAST);
    const personal = rnd() < 0.6;
    const address = personal ? `${first}.${last}${i % 3 === 0 ? '' : Math.floor(i / 3) % 10}@${domain}` : `${pick(ROLES)}@${domain}`;
    const name = personal ? `${first[0]!.toUpperCase()}${first.slice(1)} ${last[0]!.toUpperCase()}${last.slice(1)}` : `${company} ${address.split('@')[0]}`;
    const from = rnd() < 0.7 ? `${name} <${address}>` : address;
    return { from, address, company, domain };
  });
}

function subjectFor(rnd: () => number, reference: string, sentAt: number, company: string): string {
  const month = MONTHS[new Date(sentAt).getUTCMonth()]!;
  const templates = [
    () => `Invoice ${reference} for ${month}`,
    () => `Order confirmation #${reference}`,
    () => `Re: Shipment ${reference} delayed`,
    () => `Delivery note DN-${reference}`,
    () => `Purchase order PO-${reference} from ${company}`,
    () => `Payment reminder: invoice ${reference}`,
    () => `Fwd: pallet count for order ${reference}`,
    () => `Credit note ${reference} (${month})`,
    () => `RE: Quote request ${reference} - updated prices`,
    () => `Your statement ${reference} for ${month}`,
    () => `Customs declaration ${reference} attached`,
    () => `Complaint ${reference}: damaged goods`,
  ];
  return templates[Math.floor(rnd() * templates.length)]!();
}

function hex(rnd: () => number, length: number): string {
  let out = '';
  while (out.length < length)
    out += Math.floor(rnd() * 0x100000000)
      .toString(16)
      .padStart(8, '0');
  return out.slice(0, length);
}

/** The corpus, `batchSize` emails a batch; `probes` and `summary` are filled as it goes. */
export function corpus(options: CorpusOptions, batchSize: number): { batches: Generator<Batch>; probes: Probe[]; summary: CorpusSummary } {
  const rnd = seededRandom(20261121);
  const senders = makeSenders(options.senders, rnd);
  const connections = CONNECTION_NAMES.slice(0, options.connections);
  while (connections.length < options.connections) connections.push(`mailbox-${connections.length}`);
  const probes: Probe[] = [];
  const summary: CorpusSummary = { emails: 0, filtered: 0, outboxRows: 0, attemptRows: 0, deadEmails: 0, pendingEmails: 0, distinctSenders: 0 };
  const span = options.days * DAY;
  const start = options.now - span;
  const keptFrom = options.now - options.keptDays * DAY;
  const probeEvery = Math.max(1, Math.floor(options.emails / 997));

  function* batches(): Generator<Batch> {
    const uids = new Map<string, number>();
    const seen = new Set<number>();
    let batch: Batch = { ledger: [], outbox: [], attempts: [] };
    for (let i = 0; i < options.emails; i += 1) {
      const connection = connections[Math.floor(rnd() * connections.length)]!;
      const uid = (uids.get(connection) ?? 0) + 1;
      uids.set(connection, uid);
      const sourceKey = `imap:INBOX:1:${uid}`;
      const emittedAt = Math.round(start + (span * (i + 1)) / options.emails);
      const sentAt = emittedAt - Math.floor(rnd() * 600_000);
      // A few senders send much of the mail: the index is skewed towards 0.
      const senderIndex = Math.floor(senders.length * rnd() ** 2);
      seen.add(senderIndex);
      const sender = senders[senderIndex]!;
      const reference = String(1_000_000 + i);
      const filtered = rnd() < 0.04 ? FILTERED[Math.floor(rnd() * FILTERED.length)]! : undefined;
      const subject = filtered
        ? `${sender.company} news ${MONTHS[new Date(sentAt).getUTCMonth()]} (${reference})`
        : subjectFor(rnd, reference, sentAt, sender.company);
      const messageId =
        rnd() < 0.4
          ? `<${hex(rnd, 12).toUpperCase()}${i.toString(36).toUpperCase()}@AM0PR01MB${hex(rnd, 4).toUpperCase()}.eurprd01.prod.outlook.com>`
          : `<${i.toString(36)}.${hex(rnd, 16)}@mail.${sender.domain}>`;
      const acknowledgedAt = emittedAt + 500 + Math.floor(rnd() * 3000);
      const moved = connection.length % 2 === 0;
      batch.ledger.push([
        connection,
        sourceKey,
        JSON.stringify({ protocol: 'imap', folder: 'INBOX', uidValidity: '1', uid }),
        null,
        messageId,
        hex(rnd, 64),
        filtered ? null : `${hex(rnd, 2)}/${hex(rnd, 62)}`,
        filtered ? 'filtered' : 'acknowledged',
        emittedAt,
        acknowledgedAt,
        1,
        filtered?.[0] ?? null,
        filtered?.[1] ?? null,
        sender.from,
        subject,
        sentAt,
        Math.round(2000 + 400_000 * rnd() ** 3),
        moved ? 'moved to Processed' : 'marked read',
      ]);
      summary.emails += 1;
      if (filtered) summary.filtered += 1;
      const kept = !filtered && emittedAt >= keptFrom;
      // Dead letters are kept until replayed: a few old ones too.
      const dead = !filtered && rnd() < (kept ? 0.003 : 0.0003);
      if (kept || dead) {
        const age = options.now - emittedAt;
        const waiting = !dead && age < 3_600_000 ? (age < 120_000 ? 'untried' : rnd() < 0.05 ? 'retrying' : undefined) : undefined;
        if (dead) summary.deadEmails += 1;
        if (waiting) summary.pendingEmails += 1;
        const r = rnd();
        const parts = r < 0.75 ? 1 : r < 0.95 ? 2 : 3;
        for (let part = 0; part < parts; part += 1) {
          const isDead = dead && part === parts - 1;
          // An old dead letter's delivered siblings were forgotten long ago.
          if (!kept && !isDead) continue;
          pushMessage(batch, { connection, sourceKey, uid, part, emittedAt, sender, subject, messageId, state: isDead ? 'dead' : waiting, rnd });
        }
      }
      if ((i + 1) % probeEvery === 0) {
        probes.push({ connection, sourceKey, messageId, address: sender.address, company: sender.company, reference, emittedAt, kept });
      }
      if (batch.ledger.length >= batchSize) {
        count(batch);
        yield batch;
        batch = { ledger: [], outbox: [], attempts: [] };
      }
    }
    summary.distinctSenders = seen.size;
    if (batch.ledger.length > 0) {
      count(batch);
      yield batch;
    }
  }
  const count = (batch: Batch): void => {
    summary.outboxRows += batch.outbox.length;
    summary.attemptRows += batch.attempts.length;
  };
  return { batches: batches(), probes, summary };
}

interface MessageFacts {
  connection: string;
  sourceKey: string;
  uid: number;
  part: number;
  emittedAt: number;
  sender: Sender;
  subject: string;
  messageId: string;
  /** undefined: delivered. */
  state: 'dead' | 'untried' | 'retrying' | undefined;
  rnd: () => number;
}

function pushMessage(batch: Batch, m: MessageFacts): void {
  const id = pipelineMessageId(m.connection, m.sourceKey, m.part);
  const destination = m.part === 0 ? DESTINATIONS[0]! : DESTINATIONS[1 + (m.uid % 2)]!;
  const envelope = {
    id,
    connection: m.connection,
    kind: m.part === 0 ? 'body' : 'attachment',
    filename: m.part === 0 ? 'body.txt' : `document-${m.uid}-${m.part}.pdf`,
    contentType: m.part === 0 ? 'text/plain' : 'application/pdf',
    size: Math.round(1000 + 200_000 * m.rnd()),
    sha256: hex(m.rnd, 64),
    partIndex: m.part,
    source: { protocol: 'imap', folder: 'INBOX', uidValidity: '1', uid: m.uid },
    email: {
      messageId: m.messageId,
      from: m.sender.from,
      to: [`${m.connection}@postroom.example`],
      cc: [],
      subject: m.subject,
      date: new Date(m.emittedAt).toISOString(),
    },
    receivedAt: new Date(m.emittedAt).toISOString(),
  };
  const first = m.emittedAt + 200 + Math.floor(m.rnd() * 2000);
  const error = `${destination === 'erp-webhook' ? 'https://erp.example/hook' : destination} answered 503`;
  let attempts = 0;
  let lastAt: number | null = null;
  const attempt = (at: number, outcome: string, detail: string | null): void => {
    batch.attempts.push([id, m.connection, m.sourceKey, destination, at, outcome, detail]);
    attempts += 1;
    lastAt = at;
  };
  let state = 'delivered';
  let deliveredAt: number | null = null;
  let nextAttemptAt: number | null = null;
  let lastError: string | null = null;
  if (m.state === 'dead') {
    for (let n = 0; n < 4; n += 1) attempt(first + n * 60_000 * 2 ** n, 'failed', error);
    attempt(first + 2_000_000, 'dead', 'HTTP 400: no such purchase order');
    state = 'dead';
    lastError = 'HTTP 400: no such purchase order';
  } else if (m.state === 'retrying') {
    attempt(first, 'failed', error);
    state = 'pending';
    nextAttemptAt = first + 60_000;
    lastError = error;
  } else if (m.state === 'untried') {
    state = 'pending';
    nextAttemptAt = m.emittedAt;
  } else {
    if (m.rnd() < 0.02) attempt(first, 'failed', error);
    deliveredAt = first + (attempts ? 60_000 : 0);
    attempt(deliveredAt, 'delivered', destination === 'erp-webhook' ? 'https://erp.example/hook answered 202' : null);
  }
  batch.outbox.push([
    id,
    m.connection,
    destination,
    m.sourceKey,
    JSON.stringify(envelope),
    `${hex(m.rnd, 2)}/${hex(m.rnd, 62)}`,
    state,
    attempts,
    nextAttemptAt,
    lastError,
    m.emittedAt,
    deliveredAt,
    null,
    null,
    lastAt,
    null,
  ]);
}
