/**
 * Failed-login rate limit, in memory, per client address: after MAX_FAILURES wrong tokens within
 * WINDOW_MS the address gets 429 until the window has passed. Enough to make guessing a token
 * hopeless; a restart forgets, which only ever helps a legitimate user.
 */
import type { Clock } from '../model/clock.ts';

/** Wrong tokens tolerated per address per window: typos, a stale token in a browser tab. */
export const MAX_FAILURES = 10;
/** How long failures are remembered, and how long a blocked address waits. */
export const WINDOW_MS = 60_000;
/** Addresses tracked at most; past this the oldest are forgotten so memory stays bounded. */
const MAX_TRACKED = 10_000;

interface Failures {
  count: number;
  /** When the window that counts these failures ends. */
  resetAt: number;
}

export class LoginLimiter {
  private readonly failures = new Map<string, Failures>();

  constructor(private readonly clock: Clock) {}

  /** Milliseconds this address must still wait, or 0 when it may try. */
  blockedFor(address: string): number {
    const entry = this.failures.get(address);
    if (!entry) return 0;
    const now = this.clock.now();
    if (entry.resetAt <= now) {
      this.failures.delete(address);
      return 0;
    }
    return entry.count >= MAX_FAILURES ? entry.resetAt - now : 0;
  }

  fail(address: string): void {
    const now = this.clock.now();
    const entry = this.failures.get(address);
    if (!entry || entry.resetAt <= now) {
      if (this.failures.size >= MAX_TRACKED) this.failures.delete(this.failures.keys().next().value!);
      this.failures.set(address, { count: 1, resetAt: now + WINDOW_MS });
      return;
    }
    entry.count += 1;
    // Blocked from the last failure on, for a whole window.
    if (entry.count >= MAX_FAILURES) entry.resetAt = now + WINDOW_MS;
  }
}
