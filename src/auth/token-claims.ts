/**
 * Reads the claims of a JWT access token without verifying it, for diagnosis only: `postroom check`
 * tells "no admin consent" (no `roles`) from "Mail.ReadWrite missing" (other roles) before Graph
 * answers a bare 403. Microsoft documents access tokens as opaque to clients, so an unreadable
 * token is not an error: the check then relies on Graph's answer.
 */

export interface TokenClaims {
  /** Application permissions granted to the app (client credentials). */
  roles?: string[];
  tid?: string;
  appid?: string;
  aud?: string;
}

export function readTokenClaims(token: string): TokenClaims | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const out: TokenClaims = {};
    if (Array.isArray(claims.roles)) out.roles = claims.roles.filter((role): role is string => typeof role === 'string');
    if (typeof claims.tid === 'string') out.tid = claims.tid;
    if (typeof claims.appid === 'string') out.appid = claims.appid;
    if (typeof claims.aud === 'string') out.aud = claims.aud;
    return out;
  } catch {
    return undefined;
  }
}
