/**
 * Sorts imapflow's errors into Postroom's catalogue. imapflow sets `authenticationFailed` on every
 * NO/BAD reply to LOGIN, so a connection limit ("NO [UNAVAILABLE] Maximum number of connections")
 * arrives looking like a bad password: read the response code and text, not that flag.
 */
import { PostroomError } from '../../model/errors.ts';
import type { ThrottleSignal } from '../../model/throttle-signal.ts';
import { classifyNetworkError, type Endpoint, socketSignal } from '../../net/network-errors.ts';
import { CLIENT_BUG_BYE, FOLDER_GONE_BYE } from '../../throttle/classify.ts';
import { saysThrottling } from '../../throttle/says-throttling.ts';
import type { ThrottleNotice } from './imap-throttle-notices.ts';

interface ImapFlowError {
  code?: string;
  /** imapflow's NoConnection after a BYE: the server's reason. */
  reason?: string;
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
    return {
      kind: 'login-failed',
      protocol: 'imap',
      text: words ?? e.message ?? '',
      ...(e.serverResponseCode ? { responseCode: e.serverResponseCode } : {}),
      workedBefore: false,
    };
  }
  if (words) return { kind: 'reply', protocol: 'imap', text: words, ...(e.serverResponseCode ? { responseCode: e.serverResponseCode } : {}) };
  // imapflow's NoConnection is a command sent after the connection went: a cut, even while connecting.
  return e.code ? socketSignal(e.code, e.message ?? '', stage === 'connect' && e.code !== 'NoConnection') : undefined;
}

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
  if (e.code === 'NoConnection' && e.reason && CLIENT_BUG_BYE.test(e.reason)) {
    const text = `* BYE ${e.reason}`;
    return new PostroomError('PROTOCOL_ERROR', `the server ended the session: "${e.reason}" (during ${context.stage})`, {
      cause: error,
      serverResponse: text,
      signal: { kind: 'reply', protocol: 'imap', text },
      hint: 'The server could not parse commands Postroom sent: this is a bug, not throttling, so the account is not paused. Please report it with the server name and version and the log around this line; the next poll tries again and nothing is lost.',
    });
  }
  if (e.code === 'NoConnection' && e.reason && FOLDER_GONE_BYE.test(e.reason)) {
    const text = `* BYE ${e.reason}`;
    return new PostroomError(
      'FOLDER_NOT_FOUND',
      `"${context.folder ?? ''}" was deleted or renamed by another client while it was being read (the server said "${e.reason}")`,
      {
        cause: error,
        serverResponse: text,
        signal: { kind: 'reply', protocol: 'imap', text },
        hint: 'What was read before stands and nothing is delivered twice. If the folder was renamed, set folder to its new name; `postroom check` lists the folders the server has.',
      },
    );
  }
  const words = serverWords(e);
  const signal = signalOf(e, words, context.stage);
  const serverResponse = { ...(words ? { serverResponse: words } : {}), ...(signal ? { signal } : {}) };

  if (e.code === 'ETHROTTLE') {
    return new PostroomError('THROTTLED', words ?? 'Request is throttled', {
      cause: error,
      ...(e.throttleReset !== undefined ? { retryAfterMs: e.throttleReset } : {}),
      ...serverResponse,
    });
  }
  // "NO [UNAVAILABLE] Maximum number of connections" arrives flagged as a failed login: the throttle floor reads the words.
  if (signal && signal.kind !== 'socket' && saysThrottling(signal)) {
    return new PostroomError('THROTTLED', words ?? e.serverResponseCode ?? 'server asked to try later', { cause: error, ...serverResponse });
  }
  if (e.authenticationFailed) {
    return new PostroomError('AUTH_FAILED', words ?? 'login refused', {
      cause: error,
      ...serverResponse,
      hint: 'Check the username and password. Some providers (Microsoft 365, Gmail) need an app password or OAuth2 (oauth2:) instead of the account password.',
    });
  }
  if (
    context.stage === 'open' &&
    (e.serverResponseCode === 'NONEXISTENT' || /doesn.t exist|not found|unknown mailbox|no such/i.test(words ?? e.message ?? ''))
  ) {
    return new PostroomError('FOLDER_NOT_FOUND', `"${context.folder ?? ''}"${words ? ` (${words})` : ''}`, {
      cause: error,
      ...serverResponse,
      hint: 'Check the folder name (case and hierarchy separator matter); `postroom check` lists the folders the server has.',
    });
  }
  const network = classifyNetworkError(error, endpoint, signal ? { signal } : {});
  if (network) return network;
  if (e.responseStatus === 'NO' || e.responseStatus === 'BAD') {
    return new PostroomError(context.stage === 'fetch' ? 'FETCH_FAILED' : 'PROTOCOL_ERROR', words ?? e.message ?? 'command failed', {
      cause: error,
      ...serverResponse,
    });
  }
  return new PostroomError(context.stage === 'fetch' ? 'FETCH_FAILED' : 'PROTOCOL_ERROR', e.message ?? String(error), { cause: error });
}
