/**
 * Sorts imapflow's errors into Postroom's catalogue. imapflow sets `authenticationFailed` on every
 * NO/BAD reply to LOGIN, so a connection limit ("NO [UNAVAILABLE] Maximum number of connections")
 * arrives looking like a bad password: read the response code and text, not that flag.
 */
import { PostroomError } from '../../model/errors.ts';
import type { ThrottleSignal } from '../../model/throttle-signal.ts';
import { classifyNetworkError, socketSignal, type Endpoint } from '../../net/network-errors.ts';
import type { ThrottleNotice } from './imap-throttle-notices.ts';

interface ImapFlowError {
  code?: string;
  message?: string;
  responseText?: string;
  responseStatus?: string;
  serverResponseCode?: string;
  authenticationFailed?: boolean;
  throttleReset?: number;
}


/** The failure as the throttle classifier reads it. */
function signalOf(e: ImapFlowError, words: string | undefined, stage: string): ThrottleSignal | undefined {
  if (e.authenticationFailed && e.code !== 'ETHROTTLE') {
    return { kind: 'login-failed', protocol: 'imap', text: words ?? e.message ?? '', ...(e.serverResponseCode ? { responseCode: e.serverResponseCode } : {}), workedBefore: false };
  }
  if (words) return { kind: 'reply', protocol: 'imap', text: words, ...(e.serverResponseCode ? { responseCode: e.serverResponseCode } : {}) };
  // imapflow's NoConnection is a command sent after the connection went: a cut, even while connecting.
  return e.code ? socketSignal(e.code, e.message ?? '', stage === 'connect' && e.code !== 'NoConnection') : undefined;
}

/** RFC 5530 codes that mean "try again later", not "you are wrong". */
const TRY_LATER_CODES = new Set(['UNAVAILABLE', 'INUSE', 'LIMIT']);
const CONNECTION_LIMIT_TEXT = /maximum number of connections|too many (simultaneous )?connections|rate limit/i;

export function serverWords(error: ImapFlowError): string | undefined {
  const text = error.responseText?.trim();
  if (!text) return undefined;
  return error.serverResponseCode && !text.includes(`[${error.serverResponseCode}]`) ? `[${error.serverResponseCode}] ${text}` : text;
}

/** A throttle imapflow saw on this connection within this long still explains a later failure. */
const THROTTLE_NOTICE_MS = 10 * 60_000;

export function toImapError(
  error: unknown,
  endpoint: Endpoint,
  context: { folder?: string; stage: 'connect' | 'open' | 'list' | 'fetch' | 'acknowledge'; throttle?: ThrottleNotice | undefined },
): PostroomError {
  if (error instanceof PostroomError) return error;
  const notice = context.throttle;
  if (notice && Date.now() - notice.at < THROTTLE_NOTICE_MS) {
    // The server throttled us and then (often) closed the connection: the throttle is the cause.
    return new PostroomError('THROTTLED', notice.text, {
      cause: error,
      serverResponse: notice.text,
      retryAfterMs: Math.max(0, notice.at + notice.delayMs - Date.now()),
      signal: { kind: 'reply', protocol: 'imap', text: notice.text },
    });
  }
  const e = (error ?? {}) as ImapFlowError;
  const words = serverWords(e);
  const signal = signalOf(e, words, context.stage);
  const serverResponse = { ...(words ? { serverResponse: words } : {}), ...(signal ? { signal } : {}) };

  if (e.code === 'ETHROTTLE') {
    return new PostroomError('THROTTLED', words ?? 'Request is throttled', { cause: error, ...(e.throttleReset !== undefined ? { retryAfterMs: e.throttleReset } : {}), ...serverResponse });
  }
  if ((e.serverResponseCode && TRY_LATER_CODES.has(e.serverResponseCode)) || (words && CONNECTION_LIMIT_TEXT.test(words))) {
    return new PostroomError('THROTTLED', words ?? e.serverResponseCode ?? 'server asked to try later', { cause: error, ...serverResponse });
  }
  if (e.authenticationFailed) {
    return new PostroomError('AUTH_FAILED', words ?? 'login refused', {
      cause: error,
      ...serverResponse,
      hint: 'Check the username and password. Some providers (Microsoft 365, Gmail) need an app password or OAuth2 (oauth2:) instead of the account password.',
    });
  }
  if (context.stage === 'open' && (e.serverResponseCode === 'NONEXISTENT' || /doesn.t exist|not found|unknown mailbox|no such/i.test(words ?? e.message ?? ''))) {
    return new PostroomError('FOLDER_NOT_FOUND', `"${context.folder ?? ''}"${words ? ` (${words})` : ''}`, {
      cause: error,
      ...serverResponse,
      hint: 'Check the folder name (case and hierarchy separator matter); `postroom check` lists the folders the server has.',
    });
  }
  const network = classifyNetworkError(error, endpoint, signal ? { signal } : {});
  if (network) return network;
  if (e.responseStatus === 'NO' || e.responseStatus === 'BAD') {
    return new PostroomError(context.stage === 'fetch' ? 'FETCH_FAILED' : 'PROTOCOL_ERROR', words ?? e.message ?? 'command failed', { cause: error, ...serverResponse });
  }
  return new PostroomError(context.stage === 'fetch' ? 'FETCH_FAILED' : 'PROTOCOL_ERROR', e.message ?? String(error), { cause: error });
}
