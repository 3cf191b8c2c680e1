/**
 * Text patterns that mark a server's words as throttling, and the `throttlePattern` setting
 * (patterns separated by "|") that extends or replaces them.
 * Standard response codes, HTTP statuses and socket events are rules in classify.ts, not
 * patterns here, so replacing the patterns never turns those off.
 */
import { PostroomError } from '../model/errors.ts';

/** The default pattern set; one pattern a line, each naming where the words come from (see docs/throttling.md). */
export const DEFAULT_THROTTLE_PATTERNS: readonly RegExp[] = Object.freeze([
  /throttl(?:ed|ing)/i, // Exchange "Request is throttled"; Graph ApplicationThrottled, throttledRequest; Pega's "is getting throttled by the mail provider"
  /Server Unavailable\. \d+/i, // Exchange Online IMAP "NO Server Unavailable. 15", POP3 "-ERR Server Unavailable. 21"
  /too many (?:simultaneous |concurrent |open )?connections/i, // Gmail "[ALERT] Too many simultaneous connections. (Failure)"; Cyrus imapd/pop3d "Too many open connections (3 of 3 for u)"
  /maximum number of connections/i, // Dovecot login: "Maximum number of connections from user+IP exceeded (mail_max_userip_connections=N)"
  /exceeded command or bandwidth limits/i, // Gmail "[OVERQUOTA] Account exceeded command or bandwidth limits." (daily download cap, not storage)
  /rate[ -]?limit/i, // Yahoo "NO [LIMIT] UID FETCH Rate limit hit."; Gmail SMTP "421 4.7.28 ... rate limited"; rspamd "451 4.7.1 Ratelimit "user" exceeded"
  /try again later/i, // Gmail SMTP "421 4.7.0 Try again later, closing connection."; Yahoo IMAP "Server error - Please try again later"
  /server busy|ServerBusy/i, // SMTP "421 4.4.5 Server busy"; Office 365 "451 4.7.500 Server busy. Please try again later"; EWS ErrorServerBusy
  /receiving mail too quickly/i, // Gmail SMTP "450 4.2.1 The user you are trying to contact is receiving mail too quickly"
  /too many login attempts/i, // Gmail SMTP "454 4.7.0 Too many login attempts, please try again later."
  /sending (?:quota|limit) exceeded/i, // Gmail SMTP "550 5.4.5 Daily sending quota exceeded." / "Daily user sending limit exceeded."
  /SubmissionQuotaExceeded/i, // Office 365 SMTP "554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException"
  /concurrent connections limit exceeded/i, // Office 365 SMTP "432 4.3.2 Concurrent connections limit exceeded."
  /limits for how many messages can be sent/i, // Outlook.com SMTP "421 RP-001 ... We have limits for how many messages can be sent per hour and per day."
  /temporarily deferred due to unexpected volume/i, // Yahoo SMTP "421 4.7.0 [TSS04] Messages from ... temporarily deferred due to unexpected volume or user complaints"
  /MailboxConcurrency/i, // Graph 429 "Application is over its MailboxConcurrency limit." (more than 4 requests in flight)
  /IncomingBytes limit/i, // Graph "Application is over its IncomingBytes limit."
  /TooManyRequests|too many requests/i, // Graph {"error":{"code":"TooManyRequests"}}
  /activityLimitReached/i, // Graph / OneDrive error code activityLimitReached
]);

export type PatternMode = 'extend' | 'replace';

export interface ThrottlePatternSettings {
  /** The global `throttle.pattern`. */
  global?: string;
  globalMode?: PatternMode;
  /** A connection's `throttlePattern`, applied on top of the global result. */
  connection?: string;
  connectionMode?: PatternMode;
  /** Names the connection in error messages. */
  connectionName?: string;
}

/** Matching is case-insensitive (seed: patterns match error messages, whose case varies by server). */
const FLAGS = 'i';

/** Java/Pega-style inline flag; JavaScript rejects it, and matching is case-insensitive anyway. */
const JAVA_CASE_FLAG = /^\(\?i\)/;

/** Server lines are short; bounding the input bounds the cost of a user's regex on a large HTTP body. */
const MAX_MATCH_CHARS = 8_192;

/**
 * The patterns in force: the defaults, then the global setting (`extend` adds, `replace` uses it
 * alone), then the connection's setting on top of that result in the same way.
 * Throws CONFIG_INVALID naming the setting when a pattern is not a usable regex.
 */
export function compileThrottlePatterns(settings: ThrottlePatternSettings = {}): RegExp[] {
  let patterns: RegExp[] = [...DEFAULT_THROTTLE_PATTERNS];
  patterns = applySetting(patterns, settings.global, settings.globalMode, 'throttle.pattern');
  const connectionLabel = settings.connectionName ? `throttlePattern of connection "${settings.connectionName}"` : 'the connection throttlePattern';
  return applySetting(patterns, settings.connection, settings.connectionMode, connectionLabel);
}

/** The source of the first pattern that matches the text, if any. */
export function matchThrottlePattern(text: string, patterns: readonly RegExp[]): string | undefined {
  const subject = text.slice(0, MAX_MATCH_CHARS);
  for (const pattern of patterns) {
    pattern.lastIndex = 0; // a caller's /g or /y pattern keeps state between calls
    if (pattern.test(subject)) return pattern.source;
  }
  return undefined;
}

function applySetting(base: RegExp[], value: string | undefined, mode: PatternMode = 'extend', label: string): RegExp[] {
  if (value === undefined) return base;
  const own = compileSetting(value, label);
  return mode === 'replace' ? own : [...base, ...own];
}

/** One RegExp per top-level alternative, so a match can name the alternative that fired. */
export function compileSetting(value: string, label: string): RegExp[] {
  const source = value.trim().replace(JAVA_CASE_FLAG, '');
  if (source === '') return [];
  compileOrThrow(source, label); // the whole first, so the error describes what the user wrote
  return splitAlternatives(source).map((alternative) => {
    const pattern = compileOrThrow(alternative, label);
    if (pattern.test('')) {
      throw invalid(label, source, `the alternative "${alternative}" matches an empty line, so every server reply would count as throttling`);
    }
    return pattern;
  });
}

/** Splits on `|` outside groups, character classes and escapes: "a|(b|c)" → ["a", "(b|c)"]. */
export function splitAlternatives(source: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let inClass = false;
  let start = 0;
  for (let i = 0; i < source.length; i++) {
    const char = source[i];
    if (char === '\\') i++;
    else if (inClass) inClass = char !== ']';
    else if (char === '[') inClass = true;
    else if (char === '(') depth++;
    else if (char === ')') depth = Math.max(0, depth - 1);
    else if (char === '|' && depth === 0) {
      parts.push(source.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(source.slice(start));
  return parts;
}

function compileOrThrow(source: string, label: string): RegExp {
  try {
    return new RegExp(source, FLAGS);
  } catch (error) {
    throw invalid(label, source, (error as Error).message, error);
  }
}

function invalid(label: string, source: string, problem: string, cause?: unknown): PostroomError {
  return new PostroomError('CONFIG_INVALID', `${label} "${source}" is not a usable regular expression: ${problem}`, {
    cause,
    hint: 'Write a JavaScript regular expression; separate alternatives with |, e.g. "Too many connections|Rate limit hit"',
  });
}
