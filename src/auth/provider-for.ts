/**
 * The token provider for a connection's (or a destination's) OAuth2 credentials. Providers are
 * kept per set of credentials for the life of the process, so a token is reused across polls
 * and a refusal for good is remembered; new credentials (a changed secret or refresh token)
 * make a new provider, which is how a connection leaves `needs_reauth`.
 */
import { createHash } from 'node:crypto';
import type { OAuth2Settings } from '../config/oauth2-schema.ts';
import type { ConnectionConfig, GraphConnectionConfig } from '../config/schema.ts';
import { PostroomError } from '../model/errors.ts';
import type { HttpTls } from '../net/https.ts';
import { CachedTokenProvider, StaticTokenProvider } from './cached-token.ts';
import { clientCredentialsGrant, microsoftTokenUrl } from './client-credentials-grant.ts';
import { refreshTokenGrant } from './refresh-token-grant.ts';
import type { TokenGrant, TokenProvider } from './token-provider.ts';

export type { OAuth2Settings } from '../config/oauth2-schema.ts';
export type { TokenProvider } from './token-provider.ts';

/** Microsoft 365 IMAP, POP3 and SMTP all take tokens for Exchange Online. */
export const OUTLOOK_SCOPE = 'https://outlook.office365.com/.default';
export const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com';

const providers = new Map<string, TokenProvider>();

function fingerprint(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

function cached(key: unknown, make: () => TokenGrant): TokenProvider {
  const id = fingerprint(key);
  let provider = providers.get(id);
  if (!provider) {
    provider = new CachedTokenProvider(make());
    providers.set(id, provider);
  }
  return provider;
}

/** Graph's scope is its own origin + /.default (national clouds have their own Graph host). */
export function graphScope(graphEndpoint: string): string {
  return `${new URL(graphEndpoint).origin}/.default`;
}

/** An app's credentials for Graph: a graph connection, or the email destination's graph: block. */
export type GraphAppCredentials = Pick<
  GraphConnectionConfig,
  'tenantId' | 'clientId' | 'clientSecret' | 'certificate' | 'authorityHost' | 'graphEndpoint' | 'tls'
>;

function graphGrant(connection: GraphAppCredentials): TokenGrant {
  if (!connection.clientSecret && !connection.certificate) {
    throw new PostroomError('CONFIG_INVALID', 'a graph connection needs clientSecret or certificate', {
      hint: 'Give clientSecret: ${MY_CLIENT_SECRET}, or certificate: { thumbprint, privateKey }.',
    });
  }
  return clientCredentialsGrant({
    tokenUrl: microsoftTokenUrl(connection.authorityHost, connection.tenantId),
    clientId: connection.clientId,
    clientSecret: connection.clientSecret,
    certificate: connection.certificate,
    scope: graphScope(connection.graphEndpoint),
    tls: connection.tls,
    who: `tenant ${connection.tenantId}, app ${connection.clientId}`,
  });
}

/** The grant for an `oauth2:` block (IMAP, POP3, SMTP). */
function oauth2Grant(oauth2: OAuth2Settings, tls: HttpTls | undefined): TokenGrant {
  if (oauth2.refreshToken !== undefined) {
    const tokenUrl = oauth2.tokenUrl ?? (oauth2.tenantId ? microsoftTokenUrl(DEFAULT_AUTHORITY_HOST, oauth2.tenantId) : undefined);
    if (!tokenUrl) throw new PostroomError('CONFIG_INVALID', 'oauth2.refreshToken needs oauth2.tokenUrl (or oauth2.tenantId for Microsoft)');
    return refreshTokenGrant({
      tokenUrl,
      clientId: oauth2.clientId,
      clientSecret: oauth2.clientSecret,
      refreshToken: oauth2.refreshToken,
      scope: oauth2.scope,
      ...(tls ? { tls } : {}),
      who: `client ${oauth2.clientId} at ${new URL(tokenUrl).origin}`,
    });
  }
  if (oauth2.clientSecret !== undefined && (oauth2.tenantId || oauth2.tokenUrl)) {
    const tokenUrl = oauth2.tokenUrl ?? microsoftTokenUrl(DEFAULT_AUTHORITY_HOST, oauth2.tenantId!);
    return clientCredentialsGrant({
      tokenUrl,
      clientId: oauth2.clientId,
      clientSecret: oauth2.clientSecret,
      scope: oauth2.scope ?? OUTLOOK_SCOPE,
      ...(tls ? { tls } : {}),
      who: oauth2.tenantId ? `tenant ${oauth2.tenantId}, app ${oauth2.clientId}` : `client ${oauth2.clientId} at ${new URL(tokenUrl).origin}`,
    });
  }
  throw new PostroomError('CONFIG_INVALID', 'the oauth2 block needs accessToken, refreshToken (+ tokenUrl), or clientSecret (+ tenantId for Microsoft 365)');
}

/**
 * The provider for an oauth2 block. `tls` is the trust for the token endpoint (its extra CA is
 * added to the system roots).
 */
export function oauth2TokenProvider(oauth2: OAuth2Settings, tls?: HttpTls): TokenProvider {
  if (oauth2.accessToken !== undefined && oauth2.refreshToken === undefined && oauth2.clientSecret === undefined)
    return new StaticTokenProvider(oauth2.accessToken);
  return cached(['oauth2', oauth2, tls ?? null], () => oauth2Grant(oauth2, tls));
}

/** The provider for a Graph mailbox's app credentials. */
export function graphTokenProvider(connection: GraphAppCredentials): TokenProvider {
  const key = [
    'graph',
    connection.authorityHost,
    connection.tenantId,
    connection.clientId,
    connection.clientSecret ?? null,
    connection.certificate ?? null,
    connection.graphEndpoint,
    connection.tls,
  ];
  return cached(key, () => graphGrant(connection));
}

/** A provider that shares nothing with the cache: `postroom check` asks the token endpoint afresh. */
export function freshGraphTokenProvider(connection: GraphAppCredentials): TokenProvider {
  return new CachedTokenProvider(graphGrant(connection));
}

/**
 * The token provider for a connection: Graph app credentials, or the IMAP / POP3 `oauth2:` block.
 * POP3 uses it for AUTH XOAUTH2: `const tokens = tokenProviderFor(connection)`, log in with
 * `await tokens.getToken()`, and on a refused login `tokens.invalidate()` and try once more.
 */
export function tokenProviderFor(connection: ConnectionConfig): TokenProvider {
  if (connection.hostType === 'graph') return graphTokenProvider(connection);
  if (!connection.oauth2) throw new PostroomError('CONFIG_INVALID', `connection "${connection.name}" has no oauth2 block`);
  return oauth2TokenProvider(connection.oauth2);
}
