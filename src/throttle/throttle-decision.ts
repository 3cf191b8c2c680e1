/**
 * Turns a failed poll into a throttling decision for the account: the source attached the
 * failure as a ThrottleSignal; the pure classifier decides with the configured patterns and
 * latency. A failure without a signal is throttling only if its catalogue code says so.
 */
import type { Config, ConnectionConfig } from '../config/schema.ts';
import type { PostroomError } from '../model/errors.ts';
import { backoffDelay } from './backoff.ts';
import { classify, type ThrottleSignal, type WaitSource } from './classify.ts';
import { compileThrottlePatterns } from './patterns.ts';

export type ThrottleDecision =
  | { throttled: true; waitMs: number; waitSource: WaitSource; reason: string; matched: string }
  | { throttled: false; reason: string };

export interface DecisionContext {
  /** Throttles in a row so far for this account. */
  consecutive: number;
  now: number;
  /** The account's last poll succeeded (a sudden login refusal may be throttling). */
  workedBefore: boolean;
}

/** Patterns compiled once per distinct setting; the config rarely changes. */
const compiled = new Map<string, RegExp[]>();

export function throttlePolicyPatterns(connection: ConnectionConfig, global: Config['throttle']): RegExp[] {
  const key = JSON.stringify([global.pattern, global.patternMode, connection.throttlePattern, connection.throttlePatternMode]);
  let patterns = compiled.get(key);
  if (!patterns) {
    patterns = compileThrottlePatterns({
      ...(global.pattern !== undefined ? { global: global.pattern } : {}),
      globalMode: global.patternMode,
      ...(connection.throttlePattern !== undefined ? { connection: connection.throttlePattern } : {}),
      connectionMode: connection.throttlePatternMode,
      connectionName: connection.name,
    });
    compiled.set(key, patterns);
  }
  return patterns;
}

export function throttleDecision(error: PostroomError, connection: ConnectionConfig, global: Config['throttle'], context: DecisionContext): ThrottleDecision {
  const latencyMs = connection.throttleLatency ?? global.latency;
  const policy = { patterns: throttlePolicyPatterns(connection, global), ...(latencyMs !== undefined ? { latencyMs } : {}) };
  let signal: ThrottleSignal | undefined = error.signal;
  if (signal?.kind === 'login-failed') signal = { ...signal, workedBefore: context.workedBefore };
  if (signal) {
    const verdict = classify(signal, policy, { consecutive: context.consecutive, now: context.now });
    if (!verdict.throttled) return { throttled: false, reason: verdict.reason };
    // A server-stated wait that the source already parsed (e.g. imapflow's ETHROTTLE) is kept.
    if (error.retryAfterMs !== undefined && verdict.waitSource !== 'retry-after' && verdict.waitSource !== 'server-text') {
      return { throttled: true, waitMs: error.retryAfterMs, waitSource: 'server-text', reason: verdict.reason, matched: verdict.matched };
    }
    return { throttled: true, waitMs: verdict.waitMs, waitSource: verdict.waitSource, reason: verdict.reason, matched: verdict.matched };
  }
  if (!error.throttling) return { throttled: false, reason: error.message };
  const reason = error.serverResponse ?? error.message;
  if (error.retryAfterMs !== undefined) return { throttled: true, waitMs: error.retryAfterMs, waitSource: 'retry-after', reason, matched: error.code };
  if (latencyMs !== undefined) return { throttled: true, waitMs: latencyMs, waitSource: 'latency', reason, matched: error.code };
  return { throttled: true, waitMs: backoffDelay(context.consecutive), waitSource: 'backoff', reason, matched: error.code };
}
