/**
 * The first label a source gives a server's answer: is it throttling by the built-in rules (a
 * stated wait, the default patterns, a try-later response code, HTTP 429/503 or 504 with
 * Retry-After, SMTP 421, an IMAP BYE)? The very classifier that decides for the account, so the
 * rules live in one place (classify.ts, patterns.ts, response-codes.ts) and no source keeps a
 * table of its own. The account's decision (throttle-decision.ts) classifies the same signal
 * again with the connection's own `throttlePattern` and its count of throttles in a row.
 *
 * Socket events are not asked here: a source maps those through the network classifier, since a
 * cut connection is an ordinary network error to report, and only the account's decision may
 * read it as throttling.
 */
import type { ThrottleSignal } from '../model/throttle-signal.ts';
import { classify } from './classify.ts';
import { DEFAULT_THROTTLE_PATTERNS } from './patterns.ts';

const BUILT_IN = { patterns: [...DEFAULT_THROTTLE_PATTERNS] };

export function saysThrottling(signal: Exclude<ThrottleSignal, { kind: 'socket' }>, now: number = Date.now()): boolean {
  return classify(signal, BUILT_IN, { consecutive: 0, now }).throttled;
}
