/**
 * One email's id in the email trail (`postroom trace`, `/api/emails/:id`, the UI): its
 * connection and source key, base64url-encoded so it fits a URL path segment and a shell
 * argument. Not a secret and not stable across a rename of the connection.
 */
const SEPARATOR = '\n';

export function emailId(connection: string, sourceKey: string): string {
  return Buffer.from(`${connection}${SEPARATOR}${sourceKey}`, 'utf8').toString('base64url');
}

/** The connection and source key an id names; undefined when it is not one. */
export function parseEmailId(id: string): { connection: string; sourceKey: string } | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(id)) return undefined;
  const text = Buffer.from(id, 'base64url').toString('utf8');
  const at = text.indexOf(SEPARATOR);
  if (at <= 0 || at === text.length - 1) return undefined;
  return { connection: text.slice(0, at), sourceKey: text.slice(at + 1) };
}
