/**
 * Turns a token endpoint's refusal (RFC 6749 5.2 `error`, plus Microsoft's AADSTS codes) into a
 * catalogue error that says exactly what is wrong and what to do. Never quotes the request: the
 * form holds the secret; only the server's own description is kept.
 */
import { type ErrorCode, PostroomError } from '../model/errors.ts';

export interface OAuthErrorBody {
  error?: string;
  error_description?: string;
  error_codes?: number[];
}

interface Known {
  code: ErrorCode;
  detail: string;
  hint: string;
}

/** Microsoft identity platform codes (learn.microsoft.com "Microsoft Entra authentication and authorization error codes"). */
const AADSTS: ReadonlyMap<number, Known> = new Map([
  [
    7000215,
    {
      code: 'AUTH_FAILED',
      detail: 'the client secret is wrong',
      hint: "Set clientSecret to the secret's Value (not its Secret ID) from the app registration's Certificates & secrets.",
    },
  ],
  [
    7000222,
    { code: 'AUTH_REVOKED', detail: 'the client secret has expired', hint: 'Create a new client secret in the app registration and update clientSecret.' },
  ],
  [90002, { code: 'AUTH_FAILED', detail: 'the tenant does not exist', hint: 'Check tenantId: the Directory (tenant) ID, or a verified domain of the tenant.' }],
  [
    90023,
    { code: 'AUTH_FAILED', detail: 'the tenant id is not valid', hint: 'Check tenantId: the Directory (tenant) ID, or a verified domain of the tenant.' },
  ],
  [
    700016,
    {
      code: 'AUTH_FAILED',
      detail: 'the application (clientId) is not known in this tenant, or no administrator has consented to it there',
      hint: 'Check clientId (the Application (client) ID) and tenantId, and have an administrator of the tenant grant admin consent to the app.',
    },
  ],
  [
    65001,
    { code: 'AUTH_REVOKED', detail: 'consent has not been granted or was withdrawn', hint: 'An administrator must grant (admin) consent to the app again.' },
  ],
  [
    500011,
    {
      code: 'AUTH_FAILED',
      detail: 'the resource of the requested scope is not in this tenant',
      hint: 'Check graphEndpoint / oauth2.scope, and that the tenant has the service (Exchange Online).',
    },
  ],
  [
    70011,
    {
      code: 'AUTH_FAILED',
      detail: 'the scope is not valid',
      hint: 'Client credentials need a scope ending in /.default, e.g. https://outlook.office365.com/.default.',
    },
  ],
  [
    1002012,
    {
      code: 'AUTH_FAILED',
      detail: 'the scope is not valid',
      hint: 'Client credentials need a scope ending in /.default, e.g. https://outlook.office365.com/.default.',
    },
  ],
  [
    700027,
    {
      code: 'AUTH_FAILED',
      detail: 'the client certificate is not registered for the app or its signature does not verify',
      hint: 'Upload the certificate to the app registration and check certificate.thumbprint and certificate.privateKey.',
    },
  ],
  [700024, { code: 'AUTH_FAILED', detail: 'the client assertion is outside its validity time', hint: "Check this machine's clock." }],
  [
    53003,
    {
      code: 'AUTH_FAILED',
      detail: 'a Conditional Access policy blocks the sign-in',
      hint: 'Ask the tenant administrator to exclude the app or this location from the policy.',
    },
  ],
  [
    50173,
    {
      code: 'AUTH_REVOKED',
      detail: 'the refresh token was revoked (password change or sign-out)',
      hint: 'Sign in again to get a new refresh token and update oauth2.refreshToken.',
    },
  ],
  [
    700082,
    {
      code: 'AUTH_REVOKED',
      detail: 'the refresh token has expired from inactivity',
      hint: 'Sign in again to get a new refresh token and update oauth2.refreshToken.',
    },
  ],
  [70008, { code: 'AUTH_REVOKED', detail: 'the refresh token has expired', hint: 'Sign in again to get a new refresh token and update oauth2.refreshToken.' }],
]);

/** RFC 6749 5.2 codes, when no AADSTS code says more. */
const OAUTH: Readonly<Record<string, Known>> = {
  invalid_grant: {
    code: 'AUTH_REVOKED',
    detail: 'the refresh token (grant) is expired, revoked or was issued to another client',
    hint: 'Get a new refresh token (sign in again) and update oauth2.refreshToken.',
  },
  invalid_client: { code: 'AUTH_FAILED', detail: 'the client id or secret is wrong', hint: 'Check clientId and clientSecret.' },
  unauthorized_client: { code: 'AUTH_FAILED', detail: 'the client may not use this grant', hint: 'Check clientId and that the app may use this flow.' },
  invalid_scope: { code: 'AUTH_FAILED', detail: 'the scope is not valid', hint: 'Check oauth2.scope.' },
  consent_required: { code: 'AUTH_REVOKED', detail: 'consent is required', hint: 'Grant consent to the app again.' },
  interaction_required: { code: 'AUTH_REVOKED', detail: 'the provider wants an interactive sign-in', hint: 'Sign in again to get new credentials.' },
  invalid_request: { code: 'AUTH_FAILED', detail: 'the token request was refused as malformed', hint: 'Check tokenUrl, tenantId and clientId.' },
};

/** The first line of Microsoft's description, without the Trace ID / Correlation ID / Timestamp lines. */
export function firstLine(text: string | undefined): string | undefined {
  const line = text?.split(/\r?\n/)[0]?.trim();
  return line || undefined;
}

function aadstsCode(body: OAuthErrorBody): number | undefined {
  const listed = body.error_codes?.find((code) => Number.isInteger(code));
  if (listed !== undefined) return listed;
  const match = /AADSTS(\d+)/.exec(body.error_description ?? '');
  return match ? Number(match[1]) : undefined;
}

/** `who` names the credentials (tenant and client id, or the token URL), never a secret. */
export function tokenRefusal(status: number, body: OAuthErrorBody, who: string): PostroomError {
  const words = firstLine(body.error_description) ?? body.error ?? `HTTP ${status}`;
  const aad = aadstsCode(body);
  const known = (aad !== undefined ? AADSTS.get(aad) : undefined) ?? (body.error ? OAUTH[body.error] : undefined);
  if (known) {
    return new PostroomError(known.code, `${who}: ${known.detail}${aad !== undefined ? ` (AADSTS${aad})` : body.error ? ` (${body.error})` : ''}`, {
      serverResponse: words,
      hint: known.hint,
    });
  }
  if (status >= 500 || body.error === 'temporarily_unavailable' || body.error === 'server_error') {
    return new PostroomError('PROTOCOL_ERROR', `${who}: the token endpoint failed (HTTP ${status})`, { serverResponse: words, retryable: true });
  }
  return new PostroomError('AUTH_FAILED', `${who}: the token endpoint refused the request (HTTP ${status})`, { serverResponse: words });
}
