/**
 * The account a throttle applies to. Providers throttle the account, not the protocol or the
 * folder, so every connection (and outgoing email) on the same login shares one pause.
 */
import type { ConnectionConfig } from '../config/schema.ts';

export function throttleAccount(connection: ConnectionConfig): string {
  if (connection.hostType === 'graph') return `graph/${connection.mailbox.toLowerCase()}`;
  return `${connection.host.toLowerCase()}/${connection.username.toLowerCase()}`;
}
