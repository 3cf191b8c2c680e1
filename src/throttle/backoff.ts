/**
 * Exponential backoff with jitter: the wait Postroom uses when a provider throttles it without
 * saying for how long (from 2 s, doubling, to at most 10 min while the throttling goes on).
 */

/** First wait: long enough for a per-user connection slot to free up (Dovecot, Gmail), short enough that a one-off blip costs little. */
export const BACKOFF_BASE_MS = 2_000;

/** Longest wait: provider penalties are minutes long; waiting longer would leave mail unread long after the throttle lifted. */
export const BACKOFF_CAP_MS = 600_000;

/**
 * `full`: anywhere in [0, ceiling]; `equal`: in [ceiling/2, ceiling]; `none`: the ceiling itself.
 * Equal is the default because Graph keeps counting requests made while throttled (docs/throttling.md),
 * so a near-zero retry that full jitter can pick would only lengthen the penalty.
 */
export type Jitter = 'full' | 'equal' | 'none';

export interface BackoffOptions {
  baseMs?: number;
  capMs?: number;
  jitter?: Jitter;
}

/** The un-jittered wait for the `attempt`-th throttle in a row (0 = first): base × 2^attempt, capped. */
export function backoffCeiling(attempt: number, baseMs = BACKOFF_BASE_MS, capMs = BACKOFF_CAP_MS): number {
  const doublings = Number.isFinite(attempt) ? Math.max(0, Math.floor(attempt)) : 0;
  // 2 ** n becomes Infinity for a huge n; Math.min still yields the cap.
  return Math.min(capMs, baseMs * 2 ** doublings);
}

/** The jittered wait in whole milliseconds. `random` returns a number in [0, 1) (Math.random's contract). */
export function backoffDelay(attempt: number, random: () => number = Math.random, options: BackoffOptions = {}): number {
  const ceiling = backoffCeiling(attempt, options.baseMs, options.capMs);
  const r = unitInterval(random());
  switch (options.jitter ?? 'equal') {
    case 'none':
      return ceiling;
    case 'full':
      return Math.round(ceiling * r);
    case 'equal':
      return Math.round(ceiling / 2 + (ceiling / 2) * r);
  }
}

/** Keeps a misbehaving random source from producing waits outside the documented bounds. */
function unitInterval(value: number): number {
  if (!Number.isFinite(value) || value < 0) return 0;
  return Math.min(value, 1);
}
