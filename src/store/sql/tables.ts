/** Row shapes of every table, as Kysely sees them. Times are epoch milliseconds. */
import type { Generated } from 'kysely';

export interface LeasesTable {
  connection: string;
  holder: string;
  token: number;
  expires_at: number;
  acquired_at: number;
}

export interface LedgerTable {
  connection: string;
  source_key: string;
  key_json: string;
  fingerprint: string | null;
  message_id: string | null;
  raw_sha256: string;
  raw_ref: string | null;
  state: string;
  emitted_at: number;
  acknowledged_at: number | null;
  /** The lease token that committed this row (for audits of fencing). */
  token: number;
  /** State `filtered`: the filter condition that left the email out, and why. */
  filtered_condition: string | null;
  filtered_reason: string | null;
  /** The email trail (012). */
  from_address: Generated<string | null>;
  subject: Generated<string | null>;
  sent_at: Generated<number | null>;
  size: Generated<number | null>;
  acknowledgement: Generated<string | null>;
}

export interface DeliveryAttemptsTable {
  outbox_id: string;
  connection: string;
  source_key: string;
  destination: string;
  at: number;
  outcome: string;
  detail: string | null;
}

export interface OutboxTable {
  id: string;
  connection: string;
  destination: string;
  source_key: string;
  envelope: string;
  content_ref: string;
  state: string;
  attempts: Generated<number>;
  next_attempt_at: number | null;
  last_error: string | null;
  created_at: number;
  delivered_at: number | null;
  claimed_by: string | null;
  claimed_until: number | null;
  last_attempt_at: Generated<number | null>;
  trace_parent: string | null;
  content_until: Generated<number | null>;
}

export interface CursorsTable {
  connection: string;
  cursor: string;
  updated_at: number;
}

export interface ThrottlesTable {
  account: string;
  until: number;
  reason: string;
  since: number;
  consecutive: number;
}

export interface PollsTable {
  id: string;
  connection: string;
  holder: string;
  started_at: number;
  finished_at: number;
  ok: number;
  emails: number;
  messages: number;
  error: string | null;
  error_code: string | null;
  /** A poll now caused this poll: who asked (014). */
  asked_by: Generated<string | null>;
}

export interface ConnectionControlsTable {
  id: string;
  connection: string;
  /** pause, resume or poll (poll now). */
  action: string;
  by_whom: string;
  at: number;
  /** poll: the poll it caused, once recorded. */
  poll_id: string | null;
}

export interface ConnectionStateTable {
  connection: string;
  next_due_at: number | null;
  consecutive_failures: number;
  last_poll_id: string | null;
  emails_total: number;
  messages_total: number;
  /** New emails the source said it held at the last listing, and when. */
  backlog: number | null;
  backlog_at: number | null;
  /** What the running service decided (null: no service has said yet). */
  enabled: Generated<number | null>;
  polling_since: Generated<number | null>;
  polling_holder: Generated<string | null>;
  last_ok_poll_at: Generated<number | null>;
  paused_by: Generated<string | null>;
  paused_at: Generated<number | null>;
}

export interface RequestCountsTable {
  account: string;
  /** Start of the bucket, epoch ms. */
  bucket_at: number;
  requests: number;
}

export interface ManagedConnectionsTable {
  name: string;
  config_json: string;
  enabled: number;
  created_at: number;
  updated_at: number;
}

export interface Tables {
  leases: LeasesTable;
  ledger: LedgerTable;
  outbox: OutboxTable;
  cursors: CursorsTable;
  throttles: ThrottlesTable;
  polls: PollsTable;
  connection_state: ConnectionStateTable;
  managed_connections: ManagedConnectionsTable;
  request_counts: RequestCountsTable;
  delivery_attempts: DeliveryAttemptsTable;
  connection_controls: ConnectionControlsTable;
}
