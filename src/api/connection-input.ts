/**
 * A connection as the API receives it: validated by the config file's own zod schema
 * (connectionSchema), checked against the configured destinations, with write-only secrets
 * carried over from the stored version when an update leaves them out.
 */
import { connectionSchema, type ConnectionConfig } from '../config/schema.ts';
import { RequestInvalid, isPlainObject, issuesOf } from './validation.ts';

/** Fields that hold a secret: never sent back, kept when an update leaves them out. */
export const SECRET_KEYS = Object.freeze(['password', 'clientSecret', 'refreshToken', 'accessToken', 'privateKey'] as const);
export type SecretKey = (typeof SECRET_KEYS)[number];

export function isSecretKey(key: string): key is SecretKey {
  return (SECRET_KEYS as readonly string[]).includes(key);
}

export interface ValidConnection {
  config: ConnectionConfig;
  /** What to store: the input as written (durations as text), destination filled in, no `enabled`. */
  input: Record<string, unknown>;
  enabled: boolean;
}

/** Validates a connection body; `destinations` are the names defined in postroom.yaml. */
export function validateConnection(body: unknown, destinations: readonly string[]): ValidConnection {
  if (!isPlainObject(body)) throw new RequestInvalid([{ path: '', message: 'send the connection as a JSON object' }]);
  const { enabled: rawEnabled, ...rest } = body;
  const input: Record<string, unknown> = { ...rest };
  if (input.destination === undefined && destinations.length === 1) input.destination = destinations[0];
  const parsed = connectionSchema.safeParse({ ...input, ...(rawEnabled === undefined ? {} : { enabled: rawEnabled }) });
  const issues = parsed.success ? [] : issuesOf(parsed.error);
  if (input.destination === undefined) {
    issues.push({ path: 'destination', message: destinations.length ? `say which destination to use: one of ${destinations.join(', ')}` : 'no destination is defined in postroom.yaml; add one under destinations:' });
  } else if (typeof input.destination === 'string' && !destinations.includes(input.destination)) {
    issues.push({ path: 'destination', message: `no destination is named "${input.destination}"; defined: ${destinations.join(', ') || 'none'}` });
  }
  if (!parsed.success || issues.length) throw new RequestInvalid(issues);
  const config = { ...parsed.data, destination: input.destination as string } as ConnectionConfig;
  return { config, input, enabled: config.enabled };
}

/**
 * Carries each secret the body leaves out over from `stored` (PUT without a password keeps the
 * stored one), where the body's shape still has room for it.
 */
export function keepStoredSecrets(body: unknown, stored: Record<string, unknown>): unknown {
  if (!isPlainObject(body)) return body;
  const out: Record<string, unknown> = { ...body };
  const hostType = out.hostType ?? stored.hostType;
  const usesPassword = hostType === 'imap' || hostType === 'pop3';
  if (usesPassword && out.password === undefined && out.oauth2 === undefined && stored.password !== undefined) out.password = stored.password;
  if (hostType === 'graph' && out.clientSecret === undefined && stored.clientSecret !== undefined) out.clientSecret = stored.clientSecret;
  for (const nested of ['oauth2', 'certificate'] as const) {
    const mine = out[nested];
    const theirs = stored[nested];
    if (!isPlainObject(mine) || !isPlainObject(theirs)) continue;
    const merged: Record<string, unknown> = { ...mine };
    for (const [key, value] of Object.entries(theirs)) if (isSecretKey(key) && merged[key] === undefined) merged[key] = value;
    out[nested] = merged;
  }
  return out;
}
