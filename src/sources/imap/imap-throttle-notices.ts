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

/** Gmail's "OK Success [THROTTLED]": the command worked, but the server asks us to slow down. */
export interface SlowDownNotice {
  text: string;
  at: number;
}

interface ImapflowLogEntry {
  src?: string;
  msg?: string;
  throttleDelay?: number;
  err?: { responseText?: string; responseStatus?: string; serverResponseCode?: string };
}

/**
 * A command imapflow caught and answered `false` for (MOVE, COPY, STORE, EXPUNGE): its
 * reportCommandError() logs the server's reply at warn and returns false, so this is the only
 * place the server's words survive.
 */
export interface CommandRefusal {
  /** The server's words, e.g. "[TRYCREATE] Mailbox doesn't exist: Processed". */
  text: string;
  responseCode?: string;
}

export interface ThrottleNotices {
  logger: Record<'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal', (entry: ImapflowLogEntry) => void> & { isLevelEnabled(level: string): boolean };
  latest(): ThrottleNotice | undefined;
  /** The slow-down request seen since the last call, if any (then forgotten). */
  takeSlowDown(): SlowDownNotice | undefined;
  /** The last refused command imapflow swallowed since the last call, if any (then forgotten). */
  takeRefusal(): CommandRefusal | undefined;
}

const OK_THROTTLED = /^\S+ OK\b.*\[THROTTLED\]/i;

export function throttleNotices(now: () => number = Date.now): ThrottleNotices {
  let latest: ThrottleNotice | undefined;
  let slowDown: SlowDownNotice | undefined;
  let refusal: CommandRefusal | undefined;
  const ignore = (): void => {};
  return {
    logger: {
      // imapflow formats server lines only for enabled levels: tagged replies are debug, the
      // bulk FETCH rows trace, which stays off.
      isLevelEnabled: (level) => level !== 'trace',
      trace: ignore,
      debug(entry) {
        if (entry?.src === 's' && typeof entry.msg === 'string' && OK_THROTTLED.test(entry.msg)) slowDown = { text: entry.msg.slice(0, 200), at: now() };
      },
      info: ignore,
      error: ignore,
      fatal: ignore,
      warn(entry) {
        const err = entry?.err;
        if (err && (err.responseStatus === 'NO' || err.responseStatus === 'BAD') && typeof err.responseText === 'string') {
          const code = err.serverResponseCode;
          const text = err.responseText.trim().slice(0, 300);
          refusal = { text: code && !text.includes(`[${code}]`) ? `[${code}] ${text}` : text, ...(code ? { responseCode: code } : {}) };
        }
        if (entry?.msg === 'Throttling detected' && typeof entry.throttleDelay === 'number') {
          latest = {
            delayMs: entry.throttleDelay,
            text: entry.err?.responseText ?? `Request is throttled. Suggested Backoff Time: ${entry.throttleDelay} milliseconds`,
            at: now(),
          };
        }
      },
    },
    latest: () => latest,
    takeSlowDown() {
      const taken = slowDown;
      slowDown = undefined;
      return taken;
    },
    takeRefusal() {
      const taken = refusal;
      refusal = undefined;
      return taken;
    },
  };
}
