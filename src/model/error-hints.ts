/**
 * What to do about a failure, per catalogue code, in plain words: shown beside a failed poll's
 * error (the connection page). The catalogue (errors.ts) says what went wrong; this says what
 * usually helps. Codes with nothing useful to add have no hint.
 */
import type { ErrorCode } from './errors.ts';

const HINTS: Partial<Record<ErrorCode, string>> = {
  DNS_FAILED: 'Check the host name for typing mistakes, and that this machine can resolve it.',
  CONNECTION_REFUSED: 'Check the host and port, and that the mail server is running and lets this machine in.',
  CONNECTION_TIMEOUT: 'Check the host, the port and any firewall between this machine and the server; Postroom tries again.',
  CONNECTION_LOST: 'Usually passing: Postroom tries again. If it keeps happening, look at the server or the network.',
  TLS_FAILED: 'Check the port and the TLS settings: implicit TLS and STARTTLS use different ports.',
  TLS_CERTIFICATE: "Give the server's CA certificate in the TLS settings, or check the host name matches the certificate.",
  AUTH_FAILED: 'If the password was changed on the server, give the connection the new one (in postroom.yaml or under Connections).',
  AUTH_REVOKED: 'Sign in again to renew the credentials (re-authorise the connection).',
  MAILBOX_NOT_FOUND: 'Check the mailbox address, and that the app has been given access to it.',
  FOLDER_NOT_FOUND: 'Check the folder name; it must exist on the server.',
  PROTOCOL_ERROR: 'Usually passing: Postroom tries again. If it keeps happening, check the host type and port.',
  CAPABILITY_MISSING: 'The server lacks something Postroom needs; see the error for what, and try another host type or server.',
  THROTTLED: 'Nothing to do: the provider asked for a pause and every worker waits before reading again.',
  FETCH_FAILED: 'Usually passing: Postroom tries again on the next poll.',
  ACK_REFUSED: 'The emails stay pending and are tried again; check the folder to move them to and the account’s rights.',
  EMAIL_TOO_LARGE: 'Raise the size limit, or leave such emails out with the filter.',
  STORE_FAILED: 'Check the store (the database or its directory): it must be reachable and writable.',
  DISK_FULL: 'Free some disk space; nothing was lost, Postroom goes on once there is room.',
};

/** The hint for a catalogue code, or null (unknown code, or nothing useful to add). */
export function errorHint(code: string | null | undefined): string | null {
  if (!code) return null;
  return Object.hasOwn(HINTS, code) ? (HINTS[code as ErrorCode] ?? null) : null;
}
