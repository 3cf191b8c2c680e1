/**
 * The throttling classifier: is this failure the provider throttling us,
 * and how long should the account wait? Pure: no I/O, no clock (`state.now`), randomness
 * injectable (`state.random`). Every protocol's failure is first normalised into a ThrottleSignal.
 *
 * Order of evidence, strongest first:
 *   1. a wait the server states (Retry-After, "Suggested Backoff Time: N milliseconds");
 *   2. a throttle pattern (defaults in patterns.ts, extended or replaced by `throttlePattern`);
 *   3. structural rules that patterns cannot switch off: HTTP 429/503, the try-later response
 *      codes (RFC 5530, 2449, 3206), SMTP 421, an IMAP BYE or a connection/folder closed mid-run;
 *   4. a login refused on an account that worked before gets a few cautious retries.
 * Anything else is not throttling, and the reason says what it looks like instead.
 */
import type { ThrottleSignal } from '../model/throttle-signal.ts';
import { headerValue, parseRetryAfter, parseSuggestedBackoff } from '../net/server-wait.ts';
import { backoffDelay } from './backoff.ts';
import { matchThrottlePattern } from './patterns.ts';
import { NOT_THROTTLING_CODES, responseCodes, SLOW_DOWN_CODE, THROTTLING_CODES } from './response-codes.ts';

export type { ThrottleSignal } from '../model/throttle-signal.ts';

export interface ThrottlePolicy {
  /** Compiled patterns; see compileThrottlePatterns in patterns.ts. */
  patterns: RegExp[];
  /** A fixed wait (`throttleLatency`) used instead of backoff when the server names no wait. */
  latencyMs?: number;
}

export interface ClassifyState {
  /** Throttles in a row so far for this account (0 for the first). */
  consecutive: number;
  /** Epoch milliseconds, for Retry-After dates. */
  now: number;
  /** [0, 1) source for jitter; Math.random when absent. */
  random?: () => number;
}

export type WaitSource = 'retry-after' | 'server-text' | 'latency' | 'backoff';

export type Classification =
  | {
      throttled: true;
      waitMs: number;
      waitSource: WaitSource;
      reason: string;
      /** The pattern source or the rule name that decided. */
      matched: string;
      /** Gmail's OK [THROTTLED]: pace the connection by waitMs between commands, do not stop. */
      slowDownOnly?: boolean;
    }
  | { throttled: false; reason: string };

interface Wait {
  waitMs: number;
  waitSource: WaitSource;
}

/** Keeps a reason one readable log line however long the server's words are. */
const MAX_QUOTED_CHARS = 200;

/** [THROTTLED] asks for a slower pace, not a stop: a pause between commands longer than this would be a stop in disguise. */
const SLOW_DOWN_MAX_MS = 30_000;

/** Enough tries to outlast a login throttle that clears by itself (docs/throttling.md, POP3), few enough that a changed password surfaces within minutes. */
const CAUTIOUS_LOGIN_RETRIES = 3;

/** Cautious login waits start here (equal jitter: 15–30 s, then 30–60 s, 60–120 s): longer than a 2 s blip, far shorter than a 10 min penalty. */
const CAUTIOUS_LOGIN_BASE_MS = 30_000;

/**
 * A BYE over commands the server could not parse: Dovecot's "* BYE Too many invalid IMAP commands."
 * (once a session has sent CLIENT_MAX_BAD_COMMANDS malformed commands, dovecot src/imap/imap-client.c). It says the
 * client is broken, not that the account is throttled: pausing would hide the bug.
 */
export const CLIENT_BUG_BYE = /too many (?:invalid|bad|unknown) (?:IMAP )?commands/i;

/** Dovecot's "* BYE Selected mailbox was deleted, have to disconnect." (also after a RENAME by another client), and the like. */
export const FOLDER_GONE_BYE = /(?:selected )?mailbox was (?:deleted|renamed)|selected mailbox .*(?:deleted|renamed)/i;

/** HTTP statuses that are throttling whatever the body says (Graph: 429 Too Many Requests, 503 Service Unavailable). */
const THROTTLING_HTTP_STATUSES: ReadonlySet<number> = new Set([429, 503]);

/** 504 is a gateway timeout: throttling only when it carries Retry-After (or a throttling body); else an ordinary transient error. */
const GATEWAY_TIMEOUT = 504;

/** SMTP 421: "service not available, closing transmission channel", the SMTP form of BYE (RFC 5321). */
const SMTP_CLOSING = 421;

const SOCKET_THROTTLE_EVENTS: Readonly<Record<string, string>> = {
  'closed-mid-command': 'the server closed the connection while a command was in flight',
  bye: 'the server ended the session (BYE)',
  'folder-closed': 'the server closed the selected folder',
  reset: 'the server reset the connection',
};

const SOCKET_OTHER_EVENTS: Readonly<Record<string, string>> = {
  timeout: 'the server did not answer in time (an ordinary network error)',
  refused: 'the connection was refused',
  dns: 'the host name could not be resolved',
  tls: 'TLS failed',
};

/** Words that say what a non-throttling reply is, for the reason (first match wins). */
const NOT_THROTTLING_TEXTS: ReadonlyArray<readonly [RegExp, string]> = [
  [/authenticated but not connected/i, 'Exchange "authenticated but not connected", ambiguous: add a throttlePattern if it means throttling for you'],
  [/Error in IMAP command|Command Argument Error|syntax error|unknown command|command unrecognized/i, 'syntax error'],
  [/mailbox (?:doesn't|does not) exist|no such (?:mailbox|folder)|folder not found/i, 'missing folder'],
  [/quota exceeded|over quota|mailbox (?:is )?full/i, 'storage quota exceeded'],
  [/certificate|STARTTLS|\bTLS\b|\bSSL\b/i, 'TLS problem'],
  [/application-specific password|web login required|log in via your web browser/i, 'the provider wants an app password or a web login'],
  [/authenticat\w* (?:failed|unsuccessful)|invalid credentials|bad password|not accepted|logon failure|login failed/i, 'login refused'],
];

/** Login refusals that say exactly why, so they are not a throttle in disguise (Gmail app passwords and web logins, disabled accounts or SMTP AUTH). */
const SPECIFIC_LOGIN_REFUSAL =
  /application-specific password|web login required|log in via your web browser|(?:account|user) (?:is )?(?:disabled|suspended)|SmtpClientAuthentication is disabled/i;

/** SMTP enhanced codes that name the login problem: 5.7.8 credentials invalid (RFC 4954), 5.7.9 mechanism too weak, 5.7.139 Office 365 SMTP AUTH disabled. */
const SPECIFIC_SMTP_LOGIN_CODES: ReadonlySet<string> = new Set(['5.7.8', '5.7.9', '5.7.139']);

/** "421 4.7.0 Try again later" or "421-4.7.28 ...": status and enhanced code at the start of an SMTP line. */
const SMTP_LINE = /^(\d{3})(?:[ -](\d\.\d{1,3}\.\d{1,3}))?/;

const ENHANCED_CODE = /^\d\.\d{1,3}\.\d{1,3}$/;

/** An IMAP OK status: "A1 OK Success [THROTTLED]", "* OK ...", or bare. Tags need a digit so "Request OK" stays text. */
const IMAP_OK = /^(?:(?:\*|[A-Za-z]*\d[\w.]*)\s+)?OK\b/i;

export function classify(signal: ThrottleSignal, policy: ThrottlePolicy, state: ClassifyState): Classification {
  switch (signal.kind) {
    case 'reply':
      return classifyReply(signal, policy, state);
    case 'http':
      return classifyHttp(signal, policy, state);
    case 'socket':
      return classifySocket(signal, policy, state);
    case 'login-failed':
      return classifyLoginFailed(signal, policy, state);
  }
}

type Reply = Extract<ThrottleSignal, { kind: 'reply' }>;
type Http = Extract<ThrottleSignal, { kind: 'http' }>;
type Socket = Extract<ThrottleSignal, { kind: 'socket' }>;
type LoginFailed = Extract<ThrottleSignal, { kind: 'login-failed' }>;

function classifyReply(signal: Reply, policy: ThrottlePolicy, state: ClassifyState): Classification {
  const who = `${signal.protocol.toUpperCase()} server`;
  const codes = responseCodes(signal.text, signal.responseCode);
  const smtp = signal.protocol === 'smtp' ? smtpCodes(signal) : undefined;
  if (isOkReply(signal, smtp?.status)) return classifyOk(signal, codes, policy, state);
  const evidence = throttleEvidence(signal.text, codes, policy, state, who);
  if (evidence) return evidence;
  if (smtp?.status === SMTP_CLOSING) {
    return throttled(latencyWait(policy, state), 'smtp-421', `${who} closed the session (421): ${quote(signal.text)}`);
  }
  if (FOLDER_GONE_BYE.test(signal.text)) {
    return { throttled: false, reason: `not throttling (the selected folder was deleted or renamed by another client): ${quote(signal.text)}` };
  }
  if (CLIENT_BUG_BYE.test(signal.text)) {
    return {
      throttled: false,
      reason: `not throttling (the server ended the session over commands it could not parse: a client bug to report): ${quote(signal.text)}`,
    };
  }
  if (signal.protocol === 'imap' && isUntaggedBye(signal.text) && signal.command?.toUpperCase() !== 'LOGOUT') {
    return throttled(latencyWait(policy, state), 'imap-bye', `${who} ended the session: ${quote(signal.text)}`);
  }
  return notThrottled(codes, signal.text);
}

/** An OK reply is never a failure; with [THROTTLED] it asks us to slow down (Gmail). */
function classifyOk(signal: Reply, codes: string[], policy: ThrottlePolicy, state: ClassifyState): Classification {
  if (!codes.includes(SLOW_DOWN_CODE)) return { throttled: false, reason: `the command succeeded: ${quote(signal.text)}` };
  const wait = latencyWait(policy, state);
  return {
    ...throttled(
      { ...wait, waitMs: Math.min(wait.waitMs, SLOW_DOWN_MAX_MS) },
      'ok-throttled',
      `${signal.protocol.toUpperCase()} server asks to slow down: ${quote(signal.text)}`,
    ),
    slowDownOnly: true,
  };
}

function classifyHttp(signal: Http, policy: ThrottlePolicy, state: ClassifyState): Classification {
  const body = signal.body ?? '';
  const what = `HTTP ${signal.status}${body ? ` ${quote(describeHttpBody(body))}` : ''}`;
  if (signal.status < 400) return { throttled: false, reason: `${what} is not an error` };
  const retryAfter = parseRetryAfter(headerValue(signal.headers, 'retry-after'), state.now);
  const rule = httpRule(signal.status, retryAfter, body ? matchThrottlePattern(body, policy.patterns) : undefined);
  if (!rule) return { throttled: false, reason: `not throttling: ${what}` };
  const wait: Wait = retryAfter !== undefined ? { waitMs: retryAfter, waitSource: 'retry-after' } : (serverTextWait(body) ?? latencyWait(policy, state));
  return throttled(wait, rule, `the server is throttling: ${what}`);
}

function httpRule(status: number, retryAfter: number | undefined, pattern: string | undefined): string | undefined {
  if (THROTTLING_HTTP_STATUSES.has(status)) return `http-${status}`;
  if (pattern) return pattern;
  if (status === GATEWAY_TIMEOUT && retryAfter !== undefined) return 'http-504-retry-after';
  return undefined;
}

function classifySocket(signal: Socket, policy: ThrottlePolicy, state: ClassifyState): Classification {
  const words = signal.text ? `: ${quote(signal.text)}` : '';
  const throttling = SOCKET_THROTTLE_EVENTS[signal.event];
  if (!throttling) return { throttled: false, reason: `not throttling: ${SOCKET_OTHER_EVENTS[signal.event] ?? signal.event}${words}` };
  const wait = serverTextWait(signal.text) ?? latencyWait(policy, state);
  return throttled(wait, `socket-${signal.event}`, `${throttling}${words}`);
}

function classifyLoginFailed(signal: LoginFailed, policy: ThrottlePolicy, state: ClassifyState): Classification {
  const who = `${signal.protocol.toUpperCase()} server`;
  const codes = responseCodes(signal.text, signal.responseCode);
  const evidence = throttleEvidence(signal.text, codes, policy, state, who);
  if (evidence) return evidence;
  if (isSpecificLoginRefusal(signal, codes)) return notThrottled(codes, signal.text);
  if (!signal.workedBefore) return { throttled: false, reason: `login refused: ${quote(signal.text)}` };
  if (state.consecutive >= CAUTIOUS_LOGIN_RETRIES) {
    return { throttled: false, reason: `login still refused after ${CAUTIOUS_LOGIN_RETRIES} cautious retries: ${quote(signal.text)}` };
  }
  const waitMs = backoffDelay(state.consecutive, state.random, { baseMs: CAUTIOUS_LOGIN_BASE_MS });
  return throttled(
    { waitMs, waitSource: 'backoff' },
    'login-failed-worked-before',
    `login refused on an account that worked before, retrying cautiously in case it is throttling: ${quote(signal.text)}`,
  );
}

/** Steps 1–3 for a server's words: a stated wait, a pattern, a try-later response code. */
function throttleEvidence(text: string, codes: string[], policy: ThrottlePolicy, state: ClassifyState, who: string): Classification | undefined {
  const stated = serverTextWait(text);
  if (stated) return throttled(stated, 'suggested-backoff', `${who} asked to back off ${stated.waitMs} ms: ${quote(text)}`);
  const pattern = matchThrottlePattern(text, policy.patterns);
  if (pattern) return throttled(latencyWait(policy, state), pattern, `${who} is throttling: ${quote(text)}`);
  const code = codes.find((candidate) => THROTTLING_CODES.has(candidate));
  if (code) return throttled(latencyWait(policy, state), `code-${code}`, `${who} said try later (${code}): ${quote(text)}`);
  return undefined;
}

function isSpecificLoginRefusal(signal: LoginFailed, codes: string[]): boolean {
  if (codes.some((code) => NOT_THROTTLING_CODES.has(code) || SPECIFIC_SMTP_LOGIN_CODES.has(code))) return true;
  if (signal.protocol === 'smtp') {
    const enhanced = smtpCodes({ text: signal.text, responseCode: signal.responseCode }).enhanced;
    if (enhanced && SPECIFIC_SMTP_LOGIN_CODES.has(enhanced)) return true;
  }
  return SPECIFIC_LOGIN_REFUSAL.test(signal.text);
}

function notThrottled(codes: string[], text: string): Classification {
  const known = codes.map((code) => NOT_THROTTLING_CODES.get(code)).find((phrase) => phrase !== undefined);
  const phrase = known ?? NOT_THROTTLING_TEXTS.find(([pattern]) => pattern.test(text))?.[1];
  return { throttled: false, reason: `not throttling${phrase ? ` (${phrase})` : ''}: ${quote(text)}` };
}

function throttled(wait: Wait, matched: string, reason: string): Extract<Classification, { throttled: true }> {
  return { throttled: true, waitMs: wait.waitMs, waitSource: wait.waitSource, reason, matched };
}

/** The latency period: the configured fixed wait, else exponential backoff with jitter. */
function latencyWait(policy: ThrottlePolicy, state: ClassifyState): Wait {
  if (policy.latencyMs !== undefined) return { waitMs: policy.latencyMs, waitSource: 'latency' };
  return { waitMs: backoffDelay(state.consecutive, state.random), waitSource: 'backoff' };
}

function serverTextWait(text: string | undefined): Wait | undefined {
  const waitMs = parseSuggestedBackoff(text);
  return waitMs === undefined ? undefined : { waitMs, waitSource: 'server-text' };
}

function isOkReply(signal: Reply, smtpStatus: number | undefined): boolean {
  if (signal.ok !== undefined) return signal.ok;
  if (smtpStatus !== undefined) return smtpStatus < 400;
  if (signal.protocol === 'pop3') return /^\+OK\b/i.test(signal.text.trim());
  return signal.protocol === 'imap' && IMAP_OK.test(signal.text.trim());
}

function isUntaggedBye(text: string): boolean {
  return /^(?:\*\s+)?BYE\b/i.test(text.trim());
}

function smtpCodes(signal: { text: string; responseCode?: string | undefined; status?: number | undefined }): {
  status: number | undefined;
  enhanced: string | undefined;
} {
  const line = SMTP_LINE.exec(signal.text.trim());
  const given = signal.responseCode?.trim();
  const status = signal.status ?? (line?.[1] ? Number(line[1]) : undefined);
  const enhanced = given && ENHANCED_CODE.test(given) ? given : line?.[2];
  return { status, enhanced };
}

/** Graph's {"error":{"code","message"}} as "code: message"; any other body as is. */
function describeHttpBody(body: string): string {
  const error = graphError(body);
  if (!error) return body;
  return [error.code, error.message].filter((part) => part).join(': ') || body;
}

function graphError(body: string): { code: string | undefined; message: string | undefined } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  const error = isRecord(parsed) ? parsed['error'] : undefined;
  if (!isRecord(error)) return undefined;
  const code = typeof error['code'] === 'string' ? error['code'] : undefined;
  const message = typeof error['message'] === 'string' ? error['message'] : undefined;
  return { code, message };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The server's words, on one line, quoted and cut to a readable length. */
function quote(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  const cut = oneLine.length > MAX_QUOTED_CHARS ? `${oneLine.slice(0, MAX_QUOTED_CHARS - 1)}…` : oneLine;
  return `"${cut}"`;
}
