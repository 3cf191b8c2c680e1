/** Waits a server states itself: an HTTP Retry-After header, or Exchange's "Suggested Backoff Time". */

/**
 * Longest server-given wait honoured: Gmail's daily bandwidth cap can last up to a day
 * (docs/throttling.md); anything longer is more likely a bad header or clock skew than a real penalty.
 */
export const MAX_SERVER_WAIT_MS = 86_400_000;

/** Retry-After as delta-seconds; fractions are seen from Graph (docs/throttling.md). */
const DELTA_SECONDS = /^\d+(?:\.\d+)?$/;

/** An HTTP-date always names a weekday or month; requiring a letter keeps Date.parse from reading "-5" as a year. */
const LOOKS_LIKE_DATE = /[a-z]/i;

/** Exchange Online: "Request is throttled. Suggested Backoff Time: 299910 milliseconds" (same parse as imapflow). */
const SUGGESTED_BACKOFF = /Backoff Time[:=\s]+(\d+)/i;

/** Milliseconds to wait from a Retry-After value (seconds, fractional seconds or an HTTP-date relative to `now`). */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (DELTA_SECONDS.test(text)) return clampServerWait(Math.ceil(Number(text) * 1000));
  if (!LOOKS_LIKE_DATE.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : clampServerWait(at - now);
}

/** Milliseconds from "Suggested Backoff Time: N milliseconds", when the text carries it. */
export function parseSuggestedBackoff(text: string | undefined): number | undefined {
  const match = text ? SUGGESTED_BACKOFF.exec(text) : null;
  return match ? clampServerWait(Number(match[1])) : undefined;
}

/** A header by name, whatever its case (HTTP header names are case-insensitive). */
export function headerValue(headers: Record<string, string | undefined>, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  return undefined;
}

function clampServerWait(ms: number): number {
  return Math.min(MAX_SERVER_WAIT_MS, Math.max(0, Math.round(ms)));
}
