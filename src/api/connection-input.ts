/**
 * A connection as the API receives it: validated by the config file's own zod schema
 * (connectionSchema), checked against the configured destinations, with write-only secrets
 * carried over from the stored version when an update leaves them out.
 */
import { connectionSchema, defaultPort, graphConnectionSchema, type ConnectionConfig } from '../config/schema.ts';
import { isSealed, sealedKeyId } from '../store/secret-box.ts';
import { RequestInvalid, isPlainObject, issuesOf, type FieldIssue } from './validation.ts';

/** Fields that hold a secret: never sent back, kept when an update leaves them out. */
export const SECRET_KEYS = Object.freeze(['password', 'clientSecret', 'refreshToken', 'accessToken', 'privateKey'] as const);
export type SecretKey = (typeof SECRET_KEYS)[number];

export function isSecretKey(key: string): key is SecretKey {
  return (SECRET_KEYS as readonly string[]).includes(key);
}

/**
 * A copy of a connection input with `change` applied to each secret in it (top level, and in the
 * oauth2 / certificate blocks): how secrets are sealed before they are stored and opened after.
 */
export function mapSecrets(input: Record<string, unknown>, change: (value: string, path: string) => string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    if (isSecretKey(key) && (typeof value === 'string' || typeof value === 'number')) out[key] = change(String(value), key);
    else if ((key === 'oauth2' || key === 'certificate') && isPlainObject(value)) out[key] = mapSecrets(value, (inner, path) => change(inner, `${key}.${path}`));
    else out[key] = value;
  }
  return out;
}

/** Every secret in a connection input, with its path. */
export function secretsOf(input: Record<string, unknown>): Array<{ path: string; value: string }> {
  const found: Array<{ path: string; value: string }> = [];
  mapSecrets(input, (value, path) => {
    found.push({ path, value });
    return value;
  });
  return found;
}

export interface ValidConnection {
  config: ConnectionConfig;
  /** What to store: the input as written (durations as text), destination filled in, no `enabled`. */
  input: Record<string, unknown>;
  enabled: boolean;
}

const PEM = '-----BEGIN';

/**
 * Through the API, certificates and keys are PEM text only: a path would make Postroom read any
 * file it can open (postroom.yaml may still name files; the operator wrote it).
 */
function pemOnlyIssues(input: Record<string, unknown>): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const tls = isPlainObject(input.tls) ? input.tls : {};
  if (typeof tls.ca === 'string' && tls.ca.trim() && !tls.ca.includes(PEM)) {
    issues.push({ path: 'tls.ca', message: 'give the CA certificate as PEM text (-----BEGIN CERTIFICATE----- ...); a file path is only read from postroom.yaml' });
  }
  const certificate = isPlainObject(input.certificate) ? input.certificate : {};
  if (typeof certificate.privateKey === 'string' && !certificate.privateKey.includes(PEM)) {
    issues.push({ path: 'certificate.privateKey', message: 'give the private key as PEM text (-----BEGIN PRIVATE KEY----- ...); a file path is only read from postroom.yaml' });
  }
  return issues;
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
  issues.push(...pemOnlyIssues(input));
  if (!parsed.success || issues.length) throw new RequestInvalid(issues);
  const config = { ...parsed.data, destination: input.destination as string } as ConnectionConfig;
  return { config, input, enabled: config.enabled };
}

interface LeftOut {
  /** Where the secret sits, as written in postroom.yaml: `password`, `oauth2.refreshToken`. */
  path: string;
  value: unknown;
  put(into: Record<string, unknown>): void;
}

/** The stored secrets a body leaves out, where the body's shape still has room for them. */
function secretsLeftOut(body: Record<string, unknown>, stored: Record<string, unknown>): LeftOut[] {
  const found: LeftOut[] = [];
  const hostType = body.hostType ?? stored.hostType;
  if (body.hostType !== undefined && stored.hostType !== undefined && body.hostType !== stored.hostType) return found;
  const usesPassword = hostType === 'imap' || hostType === 'pop3';
  if (usesPassword && body.password === undefined && body.oauth2 === undefined && stored.password !== undefined) {
    found.push({ path: 'password', value: stored.password, put: (into) => (into.password = stored.password) });
  }
  if (hostType === 'graph' && body.clientSecret === undefined && stored.clientSecret !== undefined) {
    found.push({ path: 'clientSecret', value: stored.clientSecret, put: (into) => (into.clientSecret = stored.clientSecret) });
  }
  for (const nested of ['oauth2', 'certificate'] as const) {
    const mine = body[nested];
    const theirs = stored[nested];
    if (!isPlainObject(mine) || !isPlainObject(theirs)) continue;
    for (const [key, value] of Object.entries(theirs)) {
      if (!isSecretKey(key) || mine[key] !== undefined || value === undefined) continue;
      found.push({ path: `${nested}.${key}`, value, put: (into) => (into[nested] = { ...(into[nested] as Record<string, unknown>), [key]: value }) });
    }
  }
  return found;
}

const lower = (value: unknown): string => (value === undefined ? '' : String(value).trim().toLowerCase());
/** Host names compare without case, a trailing dot or IPv6 brackets. */
const hostName = (value: unknown): string => lower(value).replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
/** URLs compare as parsed (case of the host, default port, a trailing slash); an invalid one as written. */
function url(value: unknown, fallback = ''): string {
  const text = value === undefined ? fallback : String(value).trim();
  try {
    return new URL(text).href;
  } catch {
    return text;
  }
}

const GRAPH_DEFAULTS = graphConnectionSchema.shape;

/**
 * Every setting that decides where a secret is sent, normalised so that writing a default out
 * (port 993, useSsl: true) or in another case is no change. `useSsl` and `tls.*` count too: they
 * decide who can read the secret on the way.
 */
function targetOf(connection: Record<string, unknown>): Record<string, string> {
  const hostType = String(connection.hostType ?? '');
  const tls = isPlainObject(connection.tls) ? connection.tls : {};
  const target: Record<string, string> = {
    hostType,
    'tls.rejectUnauthorized': String(tls.rejectUnauthorized ?? true),
    'tls.ca': String(tls.ca ?? '').trim(),
    'tls.servername': hostName(tls.servername),
  };
  if (hostType === 'graph') {
    target.tenantId = lower(connection.tenantId);
    target.authorityHost = url(connection.authorityHost, GRAPH_DEFAULTS.authorityHost.parse(undefined));
    target.graphEndpoint = url(connection.graphEndpoint, GRAPH_DEFAULTS.graphEndpoint.parse(undefined));
    return target;
  }
  const useSsl = connection.useSsl ?? true;
  target.host = hostName(connection.host);
  target.port = String(connection.port ?? (hostType === 'imap' || hostType === 'pop3' ? defaultPort(hostType, useSsl === true) : ''));
  target.useSsl = String(useSsl);
  target.startTls = String(connection.startTls ?? false);
  const oauth2 = isPlainObject(connection.oauth2) ? connection.oauth2 : {};
  target['oauth2.tokenUrl'] = url(oauth2.tokenUrl);
  target['oauth2.tenantId'] = lower(oauth2.tenantId);
  return target;
}

/** The target settings that differ between the body and the stored connection. */
export function changedTarget(body: Record<string, unknown>, stored: Record<string, unknown>): string[] {
  const mine = targetOf(body);
  const theirs = targetOf(stored);
  return Object.keys({ ...mine, ...theirs }).filter((key) => mine[key] !== theirs[key]);
}

/**
 * Carries each secret the body leaves out over from `stored` (PUT without a password keeps the
 * stored one), but only while every setting that says where the secret goes is unchanged: a
 * secret is never sent to a host, port, token endpoint or authority it was not given for. When
 * something changed, or the stored connection comes from postroom.yaml (`fromFile`), the body must
 * give the secret itself: RequestInvalid names each one and why.
 */
export function keepStoredSecrets(body: unknown, stored: Record<string, unknown>, options: { fromFile?: boolean } = {}): unknown {
  if (!isPlainObject(body)) return body;
  const leftOut = secretsLeftOut(body, stored);
  if (!leftOut.length) return body;
  const locked = leftOut.filter(({ value }) => isSealed(value));
  if (locked.length) {
    throw new RequestInvalid(locked.map(({ path, value }) => ({ path, message: `give the ${path} again: the stored one is encrypted with key id ${sealedKeyId(value as string)}, which is not set` })));
  }
  if (options.fromFile) {
    throw new RequestInvalid(
      leftOut.map(({ path }) => ({ path, message: `give the ${path} in the body: the secrets of a connection from postroom.yaml are never merged into a request (test it without a body to use them)` })),
    );
  }
  const changed = changedTarget(body, stored);
  if (changed.length) {
    throw new RequestInvalid(
      leftOut.map(({ path }) => ({ path, message: `give the ${path} again because ${changed.join(', ')} changed: a stored secret is only sent where it was saved for` })),
    );
  }
  const out: Record<string, unknown> = { ...body };
  for (const secret of leftOut) secret.put(out);
  return out;
}
