/**
 * The client credentials grant (RFC 6749 4.4): an app signs in as itself with a secret or a
 * certificate. Microsoft 365 uses it for Graph (scope https://graph.microsoft.com/.default) and
 * for IMAP / POP3 / SMTP (scope https://outlook.office365.com/.default).
 *
 * A plain form POST rather than @azure/msal-node (why, with the measurements: docs/decisions.md).
 * Certificates are signed with node:crypto (client-assertion.ts).
 */

import type { HttpTls } from '../net/https.ts';
import { CLIENT_ASSERTION_TYPE, clientAssertion } from './client-assertion.ts';
import { requestToken } from './token-endpoint.ts';
import type { IssuedToken, TokenGrant } from './token-provider.ts';

/**
 * A refused app is asked again after this long: an administrator can grant consent or fix the app
 * registration without the credentials changing, and one token request an hour costs nothing.
 */
export const CLIENT_REFUSAL_RECHECK_MS = 60 * 60_000;

export interface ClientCredentials {
  tokenUrl: string;
  clientId: string;
  clientSecret?: string | undefined;
  certificate?: { thumbprint: string; privateKey: string } | undefined;
  scope: string;
  tls?: HttpTls;
  /** Names the credentials in messages (tenant, client id), never a secret. */
  who: string;
}

export function microsoftTokenUrl(authorityHost: string, tenantId: string): string {
  return `${authorityHost.replace(/\/+$/, '')}/${encodeURIComponent(tenantId)}/oauth2/v2.0/token`;
}

export function clientCredentialsGrant(credentials: ClientCredentials): TokenGrant {
  return {
    describe: credentials.who,
    refusalFinalForMs: CLIENT_REFUSAL_RECHECK_MS,
    async request(now: number): Promise<IssuedToken> {
      const form: Record<string, string> = { grant_type: 'client_credentials', client_id: credentials.clientId, scope: credentials.scope };
      if (credentials.certificate) {
        form.client_assertion_type = CLIENT_ASSERTION_TYPE;
        form.client_assertion = clientAssertion({ clientId: credentials.clientId, tokenUrl: credentials.tokenUrl, ...credentials.certificate, now });
      } else if (credentials.clientSecret !== undefined) {
        form.client_secret = credentials.clientSecret;
      }
      const answer = await requestToken(credentials.tokenUrl, form, { now, who: credentials.who, ...(credentials.tls ? { tls: credentials.tls } : {}) });
      return { accessToken: answer.accessToken, expiresAt: answer.expiresAt };
    },
  };
}
