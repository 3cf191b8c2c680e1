/**
 * A connection as the API receives it: validated by the config file's own zod schema
 * (connectionSchema), checked against the configured destinations, with write-only secrets
 * carried over from the stored version when an update leaves them out.
 */
import { type ConnectionConfig, connectionSchema, DEFAULT_AUTHORITY_HOST, DEFAULT_GRAPH_ENDPOINT, defaultPort } from '../config/schema.ts';
import { isPemText } from '../net/ca-file.ts';
import { isPlainObject, issuesOf, RequestInvalid } from './validation.ts';

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
    issues.push({
      path: 'destination',
      message: destinations.length
        ? `say which destination to use: one of ${destinations.join(', ')}`
        : 'no destination is defined in postroom.yaml; add one under destinations:',
    });
  } else if (typeof input.destination === 'string' && !destinations.includes(input.destination)) {
    issues.push({ path: 'destination', message: `no destination is named "${input.destination}"; defined: ${destinations.join(', ') || 'none'}` });
  }
  if (Array.isArray(input.routes)) {
    input.routes.forEach((route: unknown, index) => {
      const named = isPlainObject(route) ? route.destination : undefined;
      if (typeof named === 'string' && !destinations.includes(named)) {
        issues.push({ path: `routes[${index}].destination`, message: `no destination is named "${named}"; defined: ${destinations.join(', ') || 'none'}` });
      }
    });
  }
  const tls = isPlainObject(input.tls) ? input.tls : undefined;
  if (typeof tls?.ca === 'string' && !isPemText(tls.ca)) {
    issues.push({
      path: 'tls.ca',
      message: 'through the API give the PEM text of the CA certificate (-----BEGIN CERTIFICATE-----…); a file path is read only from postroom.yaml',
    });
  }
  // A Graph certificate's privateKey may name a file too (client-assertion.ts reads it): not through the API.
  const certificate = isPlainObject(input.certificate) ? input.certificate : undefined;
  if (typeof certificate?.privateKey === 'string' && !isPemText(certificate.privateKey)) {
    issues.push({
      path: 'certificate.privateKey',
      message: 'through the API give the PEM text of the private key (-----BEGIN PRIVATE KEY-----…); a file path is read only from postroom.yaml',
    });
  }
  if (!parsed.success || issues.length) throw new RequestInvalid(issues);
  const config = { ...parsed.data, destination: input.destination as string } as ConnectionConfig;
  return { config, input, enabled: config.enabled };
}

/** Where a connection's secrets go: every field that chooses the server a secret is sent to. */
function targetOf(input: Record<string, unknown>): string {
  const hostType = input.hostType;
  const tls = isPlainObject(input.tls) ? input.tls : {};
  const oauth2 = isPlainObject(input.oauth2) ? input.oauth2 : undefined;
  const url = (value: unknown, fallback: string): string => {
    const text = typeof value === 'string' ? value : fallback;
    try {
      return new URL(text).href;
    } catch {
      return text;
    }
  };
  const target: Record<string, unknown> = {
    hostType,
    tls: { rejectUnauthorized: tls.rejectUnauthorized ?? true, ca: tls.ca ?? null, servername: tls.servername ?? null },
  };
  if (hostType === 'graph') {
    target.tenantId = input.tenantId;
    target.graphEndpoint = url(input.graphEndpoint, DEFAULT_GRAPH_ENDPOINT);
    target.authorityHost = url(input.authorityHost, DEFAULT_AUTHORITY_HOST);
  } else {
    const useSsl = input.useSsl ?? true;
    const port = input.port ?? (hostType === 'imap' || hostType === 'pop3' ? defaultPort(hostType, useSsl === true) : undefined);
    target.host = typeof input.host === 'string' ? input.host.trim().toLowerCase() : input.host;
    target.port = typeof input.port === 'string' ? Number(input.port) : port;
    target.useSsl = useSsl;
    target.startTls = input.startTls ?? false;
  }
  if (oauth2)
    target.oauth2 = {
      tokenUrl: oauth2.tokenUrl === undefined ? null : url(oauth2.tokenUrl, ''),
      tenantId: oauth2.tenantId ?? null,
      clientId: oauth2.clientId ?? null,
    };
  return JSON.stringify(target);
}

/** The first target field that differs, to name in the error. */
function changedTargetField(body: Record<string, unknown>, stored: Record<string, unknown>): string {
  const a = JSON.parse(targetOf(body)) as Record<string, unknown>;
  const b = JSON.parse(targetOf(stored)) as Record<string, unknown>;
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) return key;
  }
  return 'host';
}

/** The secrets a body leaves out that the stored connection has, as field paths. */
function missingSecrets(body: Record<string, unknown>, stored: Record<string, unknown>): string[] {
  const missing: string[] = [];
  const hostType = body.hostType ?? stored.hostType;
  if ((hostType === 'imap' || hostType === 'pop3') && body.password === undefined && body.oauth2 === undefined && stored.password !== undefined)
    missing.push('password');
  if (hostType === 'graph' && body.clientSecret === undefined && body.certificate === undefined && stored.clientSecret !== undefined)
    missing.push('clientSecret');
  for (const nested of ['oauth2', 'certificate'] as const) {
    const mine = body[nested];
    const theirs = stored[nested];
    if (!isPlainObject(mine) || !isPlainObject(theirs)) continue;
    for (const key of Object.keys(theirs)) if (isSecretKey(key) && mine[key] === undefined) missing.push(`${nested}.${key}`);
  }
  return missing;
}

/**
 * Carries each secret the body leaves out over from `stored` (PUT without a password keeps the
 * stored one), where the body's shape still has room for it, and only while the body sends it to
 * the same place: a secret saved for one server is never sent to a host, port, TLS setting,
 * token URL or authority the request names instead. Secrets of a connection from postroom.yaml
 * (`carry: false`) are never merged into a request body at all. Otherwise the secret must be
 * given again: a 400 names it and the field that changed.
 */
export function keepStoredSecrets(body: unknown, stored: Record<string, unknown>, options: { carry: boolean } = { carry: true }): unknown {
  if (!isPlainObject(body)) return body;
  const missing = missingSecrets(body, stored);
  if (missing.length === 0) return body;
  if (!options.carry) {
    throw new RequestInvalid(
      missing.map((path) => ({
        path,
        message:
          'this connection is defined in postroom.yaml, whose secrets are never merged into a request: give the secret in the body, or test the saved connection with an empty body',
      })),
    );
  }
  if (targetOf(body) !== targetOf(stored)) {
    const field = changedTargetField(body, stored);
    throw new RequestInvalid(
      missing.map((path) => ({ path, message: `give it again: ${field} changed, and a saved secret is only ever sent to the server it was saved for` })),
    );
  }
  const out: Record<string, unknown> = { ...body };
  for (const path of missing) {
    const [head, key] = path.split('.') as [string, string | undefined];
    if (key === undefined) out[head] = stored[head];
    else out[head] = { ...(out[head] as Record<string, unknown>), [key]: (stored[head] as Record<string, unknown>)[key] };
  }
  return out;
}
