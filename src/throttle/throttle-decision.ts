/**
 * Turns a failed poll into a throttling decision: is the account being throttled, and how long
 * must every worker wait. The classification itself lives in the pure classifier; this adapter
 * only maps Postroom's error to its input and applies the configured latency.
 */
import type { Config, ConnectionConfig } from '../config/schema.ts';
import type { PostroomError } from '../errors.ts';

/** Backoff while throttling goes on without a wait from the server: 2 s doubling to 10 min. */
const BACKOFF_START_MS = 2_000;
const BACKOFF_CAP_MS = 10 * 60_000;

export type ThrottleDecision =
  | { throttled: true; waitMs: number; waitSource: 'retry-after' | 'server-text' | 'latency' | 'backoff'; reason: string }
  | { throttled: false };

export function throttleDecision(
  error: PostroomError,
  connection: ConnectionConfig,
  global: Config['throttle'],
  consecutive: number,
  _now: number,
): ThrottleDecision {
  if (!error.throttling) return { throttled: false };
  const reason = error.serverResponse ?? error.message;
  if (error.retryAfterMs !== undefined) return { throttled: true, waitMs: error.retryAfterMs, waitSource: 'retry-after', reason };
  const latency = connection.throttleLatency ?? global.latency;
  if (latency !== undefined) return { throttled: true, waitMs: latency, waitSource: 'latency', reason };
  const base = Math.min(BACKOFF_CAP_MS, BACKOFF_START_MS * 2 ** consecutive);
  return { throttled: true, waitMs: Math.round(base / 2 + Math.random() * (base / 2)), waitSource: 'backoff', reason };
}
