/**
 * The refresh token grant (RFC 6749 section 6), for providers where a person signed in once
 * (Gmail, Microsoft delegated access, any OAuth2 mail provider): the refresh token buys access
 * tokens. A rotated refresh token from the answer is used from then on (kept in memory; the
 * configured one is the starting point after a restart).
 */
import type { HttpTls } from '../net/https.ts';
import { requestToken } from './token-endpoint.ts';
import type { IssuedToken, TokenGrant } from './token-provider.ts';

export interface RefreshTokenCredentials {
  tokenUrl: string;
  clientId: string;
  clientSecret?: string | undefined;
  refreshToken: string;
  scope?: string | undefined;
  tls?: HttpTls;
  who: string;
}

export function refreshTokenGrant(credentials: RefreshTokenCredentials): TokenGrant {
  let refreshToken = credentials.refreshToken;
  return {
    describe: credentials.who,
    // A dead refresh token stays dead: only a new sign-in (new credentials) helps.
    refusalFinalForMs: Infinity,
    async request(now: number): Promise<IssuedToken> {
      const form: Record<string, string> = { grant_type: 'refresh_token', client_id: credentials.clientId, refresh_token: refreshToken };
      if (credentials.clientSecret !== undefined) form.client_secret = credentials.clientSecret;
      if (credentials.scope) form.scope = credentials.scope;
      const answer = await requestToken(credentials.tokenUrl, form, { now, who: credentials.who, ...(credentials.tls ? { tls: credentials.tls } : {}) });
      if (answer.refreshToken) refreshToken = answer.refreshToken;
      return { accessToken: answer.accessToken, expiresAt: answer.expiresAt };
    },
  };
}
