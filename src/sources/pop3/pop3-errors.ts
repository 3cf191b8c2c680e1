/**
 * Sorts POP3 failures into Postroom's catalogue. The RFC 2449 / 3206 response codes say most:
 * [AUTH] is a refused login, [IN-USE] / [LOGIN-DELAY] / [SYS/TEMP] mean "try later" (RFC 2449, RFC 3206),
 * [SYS/PERM] will not get better by itself. Socket and TLS failures go through the shared
 * network classifier. Every error carries the throttle signal the classifier reads.
 */
import { PostroomError } from '../../model/errors.ts';
import type { ThrottleSignal } from '../../model/throttle-signal.ts';
import { classifyNetworkError, type Endpoint, socketSignal } from '../../net/network-errors.ts';
import { saysThrottling } from '../../throttle/says-throttling.ts';
import { Pop3ProtocolError, Pop3ReplyError } from './pop3-reply.ts';

export type Pop3Stage = 'connect' | 'tls' | 'login' | 'list' | 'fetch' | 'acknowledge' | 'quit';

const LOGIN_VERBS = new Set(['USER', 'PASS', 'AUTH PLAIN', 'AUTH XOAUTH2', 'APOP']);

const AUTH_HINT =
  'Check the username and password, and that POP3 access is enabled for the account. Some providers (Microsoft 365, Gmail) need an app password or OAuth2 (oauth2:) instead of the account password.';

export function toPop3Error(error: unknown, endpoint: Endpoint, stage: Pop3Stage): PostroomError {
  if (error instanceof PostroomError) return error;

  if (error instanceof Pop3ReplyError) {
    const { reply, verb } = error;
    const words = reply.line;
    const login = stage === 'login' || LOGIN_VERBS.has(verb);
    const base = { cause: error, serverResponse: words };
    const reading: ThrottleSignal = { kind: 'reply', protocol: 'pop3', text: words, ...(reply.code ? { responseCode: reply.code } : {}), command: verb };
    // [IN-USE], [LOGIN-DELAY], [SYS/TEMP] (RFC 2449, 3206), or words that say throttling: the throttle floor's rules decide.
    if (saysThrottling(reading)) return new PostroomError('THROTTLED', words, { ...base, signal: reading });
    if (login || reply.code === 'AUTH') {
      const signal: ThrottleSignal = {
        kind: 'login-failed',
        protocol: 'pop3',
        text: words,
        ...(reply.code ? { responseCode: reply.code } : {}),
        workedBefore: false,
      };
      return new PostroomError('AUTH_FAILED', words, { ...base, signal, hint: AUTH_HINT });
    }
    const signal: ThrottleSignal = { kind: 'reply', protocol: 'pop3', text: words, ...(reply.code ? { responseCode: reply.code } : {}), command: verb };
    if (verb === 'STLS') {
      return new PostroomError('TLS_FAILED', `the server refused STLS: ${words}`, {
        ...base,
        signal,
        hint: 'Use useSsl: true with the implicit-TLS port (995), or turn startTls off only if the network is trusted.',
      });
    }
    if (verb === 'greeting') return new PostroomError('PROTOCOL_ERROR', `the server refused the session: ${words}`, { ...base, signal });
    const permanent = reply.code === 'SYS/PERM' ? { retryable: false } : {};
    return new PostroomError(stage === 'fetch' ? 'FETCH_FAILED' : 'PROTOCOL_ERROR', `${verb}: ${words}`, { ...base, ...permanent, signal });
  }

  if (error instanceof Pop3ProtocolError) {
    return new PostroomError('PROTOCOL_ERROR', error.message, { cause: error });
  }

  const { code = '', message = '' } = (error ?? {}) as { code?: string; message?: string };
  const signal = socketSignal(code, message, stage === 'connect');
  const network = classifyNetworkError(error, endpoint, signal ? { signal } : {});
  if (network) return network;
  return new PostroomError(stage === 'fetch' ? 'FETCH_FAILED' : 'PROTOCOL_ERROR', message || String(error), { cause: error });
}
