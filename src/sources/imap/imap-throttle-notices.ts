/**
 * imapflow recognises Exchange's "Request is throttled. Suggested Backoff Time: N milliseconds",
 * waits part of it itself, and when the server then closes the connection reports only
 * "connection closed": the server's wait is lost. Its logger is the one place that still sees
 * it, so Postroom gives imapflow a logger that drops everything (protocol traffic may hold
 * secrets) except that one event, which it keeps for the error sorting.
 */
export interface ThrottleNotice {
  /** The server's suggested wait in milliseconds. */
  delayMs: number;
  /** The server's words. */
  text: string;
  /** When imapflow saw it (epoch ms). */
  at: number;
}

interface ImapflowLogEntry {
  msg?: string;
  throttleDelay?: number;
  err?: { responseText?: string };
}

export interface ThrottleNotices {
  logger: Record<'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal', (entry: ImapflowLogEntry) => void>;
  latest(): ThrottleNotice | undefined;
}

export function throttleNotices(now: () => number = Date.now): ThrottleNotices {
  let latest: ThrottleNotice | undefined;
  const ignore = (): void => {};
  return {
    logger: {
      trace: ignore,
      debug: ignore,
      info: ignore,
      error: ignore,
      fatal: ignore,
      warn(entry) {
        if (entry?.msg === 'Throttling detected' && typeof entry.throttleDelay === 'number') {
          latest = { delayMs: entry.throttleDelay, text: entry.err?.responseText ?? `Request is throttled. Suggested Backoff Time: ${entry.throttleDelay} milliseconds`, at: now() };
        }
      },
    },
    latest: () => latest,
  };
}
