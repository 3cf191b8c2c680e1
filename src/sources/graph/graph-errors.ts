/**
 * Sorts Graph's answers into Postroom's catalogue. Graph errors are JSON
 * `{"error":{"code":"...","message":"..."}}`; throttling is 429 / 503 (and 504 with Retry-After),
 * or a throttling code in the body, and carries the answer as an HTTP signal for the classifier.
 */
import { PostroomError } from '../../model/errors.ts';
import type { ThrottleSignal } from '../../model/throttle-signal.ts';
import { parseJson } from '../../net/https.ts';
import { headerValue, parseRetryAfter } from '../../net/server-wait.ts';
import { saysThrottling } from '../../throttle/says-throttling.ts';

export type GraphStage = 'mailbox' | 'folder' | 'list' | 'fetch' | 'acknowledge' | 'send';

/** 404 codes that mean the mailbox itself, not an item in it. */
const MAILBOX_CODES = new Set([
  'ErrorInvalidUser',
  'MailboxNotEnabledForRESTAPI',
  'ErrorNonExistentMailbox',
  'ErrorMailboxNotEnabledForRESTAPI',
  'Request_ResourceNotFound',
]);

/** The body kept in the throttle signal: enough for the code and message, bounded for the log. */
const SIGNAL_BODY_CHARS = 2_000;

export interface GraphErrorBody {
  error?: { code?: string; message?: string };
}

export function graphErrorWords(text: string): { code?: string; message?: string } {
  const body = parseJson(text) as GraphErrorBody | undefined;
  const out: { code?: string; message?: string } = {};
  if (typeof body?.error?.code === 'string') out.code = body.error.code;
  if (typeof body?.error?.message === 'string') out.message = body.error.message;
  return out;
}

/**
 * 429 "Application is over its MailboxConcurrency limit.": too many of this app's requests are in
 * flight to the mailbox. Not time-based: its Retry-After of 1 means "once one of yours ends"
 * (https://learn.microsoft.com/en-us/answers/questions/2143058).
 */
export function isMailboxConcurrency(status: number, text: string): boolean {
  return status === 429 && /MailboxConcurrency/i.test(graphErrorWords(text).message ?? text);
}

/** Throttling by the throttle floor's rules: 429 / 503, 504 with Retry-After, or a throttling code or message in the body (ApplicationThrottled, MailboxConcurrency, ...). */
export function isGraphThrottling(status: number, headers: Record<string, string | undefined>, text: string): boolean {
  return saysThrottling(httpSignal(status, headers, text));
}

function httpSignal(status: number, headers: Record<string, string | undefined>, text: string): ThrottleSignal & { kind: 'http' } {
  const retryAfter = headerValue(headers, 'retry-after');
  return { kind: 'http', status, headers: retryAfter !== undefined ? { 'retry-after': retryAfter } : {}, body: text.slice(0, SIGNAL_BODY_CHARS) };
}

const PERMISSION_HINT =
  'The app needs the Microsoft Graph application permission Mail.ReadWrite (Mail.Send to send) with admin consent; an Exchange Online application access policy may also keep it out of this mailbox.';

/** `what` names the thing asked for ("mailbox orders@contoso.com", "folder \"Inbox/Orders\""). */
export function graphError(
  status: number,
  headers: Record<string, string | undefined>,
  text: string,
  stage: GraphStage,
  what: string,
  now: number,
): PostroomError {
  const { code, message } = graphErrorWords(text);
  const words = [code, message].filter(Boolean).join(': ') || `HTTP ${status}`;
  const serverResponse = { serverResponse: words };
  if (isGraphThrottling(status, headers, text)) {
    const retryAfter = headerValue(headers, 'retry-after');
    const retryAfterMs = parseRetryAfter(retryAfter, now);
    return new PostroomError('THROTTLED', `Graph is throttling ${what} (HTTP ${status}${code ? ` ${code}` : ''})`, {
      ...serverResponse,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      signal: httpSignal(status, headers, text),
    });
  }
  if (status === 401) {
    return new PostroomError('AUTH_FAILED', `Graph refused the access token for ${what}`, {
      ...serverResponse,
      hint: 'Check tenantId, clientId and the secret or certificate; `postroom check` shows what the token endpoint says.',
    });
  }
  if (status === 403) return new PostroomError('AUTH_FAILED', `access to ${what} was denied`, { ...serverResponse, hint: PERMISSION_HINT });
  if (status === 404 && code !== undefined && MAILBOX_CODES.has(code)) {
    return new PostroomError('MAILBOX_NOT_FOUND', `${what}${message ? `: ${message.replace(/\.$/, '')}` : ''}`, {
      ...serverResponse,
      hint: 'Check mailbox: the user principal name (UPN), primary SMTP address or object id of a mailbox in this tenant.',
    });
  }
  if (status === 404 && stage === 'folder') {
    return new PostroomError('FOLDER_NOT_FOUND', what, {
      ...serverResponse,
      hint: 'Use a well-known name (inbox, archive, junkemail, ...) or a path of display names such as Inbox/Orders; `postroom check` lists the folders.',
    });
  }
  const retryable = status >= 500 || status === 408;
  const codeFor = stage === 'fetch' ? 'FETCH_FAILED' : stage === 'send' ? (retryable ? 'DELIVERY_FAILED' : 'DELIVERY_REJECTED') : 'PROTOCOL_ERROR';
  return new PostroomError(codeFor, `Graph answered HTTP ${status} for ${what}`, { ...serverResponse, retryable });
}
