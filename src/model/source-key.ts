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

/**
 * The cursor `postroom rescan` leaves: the next listing starts from the folder's first email and
 * judges every email the filter left alone on its own headers and content, without the server's
 * search pre-selecting (IMAP carries `judgeAllThrough` in its cursor until it has passed them).
 */
export const RESCAN_CURSOR: Readonly<SourceCursor> = Object.freeze({ rescan: true });

export function isRescanCursor(cursor: SourceCursor | undefined): boolean {
  return cursor?.rescan === true;
}
