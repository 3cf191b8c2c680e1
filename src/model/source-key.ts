/** How an email is named on its server and where a connection's reading stands: the ledger's keys. */

export type Protocol = 'imap' | 'pop3' | 'graph';

/** A stable identity for one email on its server. */
export interface SourceKey {
  protocol: Protocol;
  /** IMAP folder or Graph folder. */
  folder?: string;
  /** IMAP UIDVALIDITY, as a decimal string. */
  uidValidity?: string;
  uid?: number;
  /** POP3 UIDL (or the documented fallback key when the server has no UIDL). */
  uidl?: string;
  graphId?: string;
}

/** The ledger key of an email: unique per connection. */
export function sourceKeyString(key: SourceKey): string {
  switch (key.protocol) {
    case 'imap':
      return `imap:${key.folder ?? 'INBOX'}:${key.uidValidity ?? '0'}:${key.uid ?? 0}`;
    case 'pop3':
      return `pop3:${key.uidl ?? ''}`;
    case 'graph':
      return `graph:${key.folder ?? ''}:${key.graphId ?? ''}`;
  }
}

/** Opaque per-connection position, persisted in the store with each committed email. */
export type SourceCursor = Record<string, unknown>;
