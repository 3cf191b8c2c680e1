/**
 * Structured logs (pino). Secrets are masked here, once, so that no call site has to remember:
 * every logged object (and a child logger's bindings) is copied with any key that names a
 * secret (password, pass, token, secret, authorization, privateKey, ...: any case, any depth,
 * in arrays and in an Error's own properties and cause) replaced by "[redacted]". Matching by
 * name rather than by path means a secret nested where nobody expected it is still caught.
 */
import pino, { type Logger } from 'pino';

const REDACTED = '[redacted]';
/** Deeper than any config, request or error Postroom logs; past it the value is left out, not walked for ever. */
const MAX_LOG_DEPTH = 12;
/**
 * A key is a secret's when, lower-cased without `-` and `_`, it ends with one of these:
 * `clientSecret`, `Authorization`, `X-Api-Key`, `smtpPassword`, `auth.pass` all do.
 */
const SECRET_NAME = /(password|passwd|passphrase|pass|pwd|secret|token|authorization|cookie|privatekey|apikey|accesskey|credentials?)$/;

/** `scheme://user:password@`: a password inside a URL, wherever a URL is written into a string. */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]*:[^\s/?#@]*@/gi;

export function isSecretName(key: string): boolean {
  return SECRET_NAME.test(key.toLowerCase().replace(/[-_]/g, ''));
}

/** Paths the earlier path-based redaction covered; kept for loggers built outside createLogger. */
export const REDACTED_PATHS = [
  'password',
  '*.password',
  '*.*.password',
  'token',
  '*.token',
  'accessToken',
  '*.accessToken',
  '*.*.accessToken',
  'refreshToken',
  '*.refreshToken',
  '*.*.refreshToken',
  'clientSecret',
  '*.clientSecret',
  '*.*.clientSecret',
  'secret',
  '*.secret',
  'authorization',
  '*.authorization',
  '*.headers.authorization',
  'auth.pass',
  '*.auth.pass',
];

/** A copy of `value` with every secret-named key masked; cycle-safe and bounded in depth. */
export function redactSecrets(value: unknown, depth = 0, ancestors = new Set<object>()): unknown {
  if (typeof value === 'string') return value.includes('@') ? value.replace(URL_USERINFO, '$1[redacted]@') : value;
  if (value === null || typeof value !== 'object') return value;
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value) || value instanceof Date || value instanceof RegExp) return value;
  if (depth >= MAX_LOG_DEPTH) return '[too deep]';
  if (ancestors.has(value)) return '[circular]';
  ancestors.add(value);
  try {
    const walk = (child: unknown): unknown => redactSecrets(child, depth + 1, ancestors);
    if (Array.isArray(value)) return value.map(walk);
    if (value instanceof Map)
      return walkEntries(
        [...value.entries()].map(([k, v]) => [String(k), v]),
        walk,
      );
    if (value instanceof Set) return [...value].map(walk);
    if (value instanceof Error) return walkEntries(errorEntries(value), walk);
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return walk(toJSON.call(value));
    return walkEntries(Object.entries(value), walk);
  } finally {
    ancestors.delete(value);
  }
}

function walkEntries(entries: Array<[string, unknown]>, walk: (child: unknown) => unknown): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const [key, child] of entries) copy[key] = isSecretName(key) && child !== undefined && child !== null ? REDACTED : walk(child);
  return copy;
}

/** What pino's error serializer shows (type, message, stack), the error's own properties, and its cause. */
function errorEntries(error: Error): Array<[string, unknown]> {
  const entries: Array<[string, unknown]> = [
    ['type', error.constructor?.name ?? error.name],
    ['message', error.message],
    ['stack', error.stack],
  ];
  const own = Object.entries(error).filter(([key]) => key !== 'type' && key !== 'message' && key !== 'stack');
  entries.push(...own);
  // `new Error(message, { cause })` makes `cause` an own but non-enumerable property.
  if (error.cause !== undefined && !own.some(([key]) => key === 'cause')) entries.push(['cause', error.cause]);
  if (error instanceof AggregateError) entries.push(['errors', error.errors]);
  return entries;
}

export function createLogger(options: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  const logger = pino(
    {
      level: options.level ?? process.env.POSTROOM_LOG_LEVEL ?? 'info',
      base: { pid: process.pid },
      formatters: {
        log: (object) => {
          const copy = redactSecrets(object);
          // An object logged as the whole line that turns into something else (a URL's toJSON).
          return copy !== null && typeof copy === 'object' && !Array.isArray(copy) ? (copy as Record<string, unknown>) : { value: copy };
        },
        bindings: (bindings) => redactSecrets(bindings) as pino.Bindings,
      },
      // Errors are already turned into plain, masked objects above.
      serializers: { err: (error: unknown) => error },
    },
    options.destination ?? pino.destination(2),
  );
  // pino gives child loggers no bindings formatter; children inherit this `child` (each is an
  // Object.create of its parent), so every generation's bindings are masked too.
  const child = logger.child as unknown as (this: Logger, bindings: pino.Bindings, childOptions?: pino.ChildLoggerOptions) => Logger;
  logger.child = function (this: Logger, bindings: pino.Bindings, childOptions?: pino.ChildLoggerOptions) {
    return child.call(this, redactSecrets(bindings) as pino.Bindings, childOptions);
  } as unknown as Logger['child'];
  return logger;
}

export type { Logger };
