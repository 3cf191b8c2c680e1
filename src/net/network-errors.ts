/**
 * The one place where socket, DNS and TLS failures from Node (and the libraries on top of it)
 * are sorted into Postroom's error codes. Retry and throttle policy read the resulting code.
 */
import { PostroomError, type PostroomErrorOptions } from '../model/errors.ts';
import type { ThrottleSignal } from '../model/throttle-signal.ts';

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL']);
const REFUSED_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ETIMEOUT', 'CONNECT_TIMEOUT', 'GREETING_TIMEOUT', 'UPGRADE_TIMEOUT', 'ESOCKETTIMEDOUT']);
const LOST_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'NoConnection', 'EConnectionClosed', 'ClosedAfterConnectText', 'ClosedAfterConnectTLS']);
const CERTIFICATE_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_UNTRUSTED',
]);

interface CodedError {
  code?: string;
  message?: string;
}

export interface Endpoint {
  host: string;
  port: number;
}

/** Returns a PostroomError when `error` is a network-level failure, else undefined. */
/** `extra` (e.g. the throttle signal) is merged into the error's options. */
export function classifyNetworkError(error: unknown, endpoint: Endpoint, extra: PostroomErrorOptions = {}): PostroomError | undefined {
  if (error instanceof PostroomError) return error;
  const { code = '', message = '' } = (error ?? {}) as CodedError;
  const where = `${endpoint.host}:${endpoint.port}`;
  if (DNS_CODES.has(code)) {
    return new PostroomError('DNS_FAILED', `${endpoint.host} (${code})`, {
      ...extra,
      cause: error,
      hint: 'Check the host name for typos and that this machine can resolve it.',
    });
  }
  if (REFUSED_CODES.has(code)) {
    return new PostroomError('CONNECTION_REFUSED', `${where} (${code})`, {
      ...extra,
      cause: error,
      hint: 'Check the port and that the server is running and reachable from here.',
    });
  }
  if (TIMEOUT_CODES.has(code)) {
    return new PostroomError('CONNECTION_TIMEOUT', `${where} (${code})`, {
      ...extra,
      cause: error,
      hint: 'A firewall may be dropping the connection, or the port is wrong.',
    });
  }
  if (CERTIFICATE_CODES.has(code) || /certificate/i.test(message)) {
    return new PostroomError('TLS_CERTIFICATE', `${where}: ${message || code}`, {
      cause: error,
      hint: 'Give the issuing CA in tls.ca, or fix the server certificate. Only if you trust the network, set tls.rejectUnauthorized: false.',
    });
  }
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || /wrong version number|ssl3_get_record|handshake/i.test(message)) {
    // OpenSSL's own text is a multi-line dump; "wrong version number" means "that was not TLS".
    const what = /wrong version number/i.test(message) ? 'the server did not answer with TLS' : (message.split('\n')[0] ?? code).trim() || code;
    return new PostroomError('TLS_FAILED', `${where}: ${what}`, {
      cause: error,
      hint: 'The port may not speak TLS the way useSsl says: implicit TLS is usually 993 (IMAP) / 995 (POP3); plain ports are 143 / 110.',
    });
  }
  if (LOST_CODES.has(code)) {
    return new PostroomError('CONNECTION_LOST', `${where} (${code})${message ? `: ${message}` : ''}`, { ...extra, cause: error });
  }
  return undefined;
}

/**
 * A socket failure as the throttle classifier reads it, the same for every protocol: a connection
 * dropped while a command was in flight is a throttling sign (providers cut connections they
 * throttle); refused, DNS and timeout failures are named so the classifier can tell them apart.
 * `connecting`: the drop came before the session was up (a reset, not a cut mid-command).
 */
export function socketSignal(code: string, message: string, connecting: boolean): ThrottleSignal | undefined {
  if (LOST_CODES.has(code)) return { kind: 'socket', event: connecting ? 'reset' : 'closed-mid-command', text: message || code };
  if (REFUSED_CODES.has(code)) return { kind: 'socket', event: 'refused' };
  if (DNS_CODES.has(code)) return { kind: 'socket', event: 'dns' };
  if (TIMEOUT_CODES.has(code)) return { kind: 'socket', event: 'timeout' };
  return undefined;
}
