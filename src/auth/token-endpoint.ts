/**
 * One token request (RFC 6749 section 4.4 client credentials, section 6 refresh): a form POST
 * to the token endpoint, answered by `access_token` + `expires_in` or an `error`.
 */
import { PostroomError } from '../model/errors.ts';
import type { ThrottleSignal } from '../model/throttle-signal.ts';
import { endpointOf, type HttpTls, httpRequest, parseJson, readText } from '../net/https.ts';
import { classifyNetworkError } from '../net/network-errors.ts';
import { headerValue } from '../net/server-wait.ts';
import { saysThrottling } from '../throttle/says-throttling.ts';
import { type OAuthErrorBody, tokenRefusal } from './token-errors.ts';
import type { IssuedToken } from './token-provider.ts';

/** A token that states no lifetime is taken to last this long (RFC 6749 leaves it to the client; providers issue 1 h). */
const DEFAULT_LIFETIME_S = 3600;

/** Token endpoints answer in well under a second; a minute of silence is a dead connection. */
const TOKEN_TIMEOUT_MS = 30_000;

export interface TokenAnswer extends IssuedToken {
  /** A rotated refresh token, when the provider sent one. */
  refreshToken?: string;
}

interface TokenBody extends OAuthErrorBody {
  access_token?: string;
  expires_in?: number | string;
  refresh_token?: string;
}

export async function requestToken(tokenUrl: string, form: Record<string, string>, options: { tls?: HttpTls; now: number; who: string }): Promise<TokenAnswer> {
  let status: number;
  let headers: Record<string, string | undefined>;
  let text: string;
  try {
    const response = await httpRequest({
      method: 'POST',
      url: tokenUrl,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(form).toString(),
      idleTimeoutMs: TOKEN_TIMEOUT_MS,
      ...(options.tls ? { tls: options.tls } : {}),
    });
    status = response.status;
    headers = response.headers;
    text = await readText(response.body);
  } catch (error) {
    if (error instanceof PostroomError) throw error;
    throw (
      classifyNetworkError(error, endpointOf(tokenUrl)) ??
      new PostroomError('CONNECTION_LOST', `token endpoint ${new URL(tokenUrl).origin}: ${(error as Error).message}`, { cause: error })
    );
  }
  const body = (parseJson(text) ?? {}) as TokenBody;
  const retryAfter = headerValue(headers, 'retry-after');
  const signal: ThrottleSignal = { kind: 'http', status, headers: retryAfter ? { 'retry-after': retryAfter } : {}, body: text.slice(0, 500) };
  // 429, 503, 504 with Retry-After, or a throttling body: the throttle floor's rules decide.
  if (saysThrottling(signal)) {
    throw new PostroomError('THROTTLED', `${options.who}: the token endpoint is throttling (HTTP ${status})`, {
      serverResponse: body.error_description?.split(/\r?\n/)[0] ?? `HTTP ${status}`,
      signal,
    });
  }
  if (status < 200 || status >= 300 || body.error) throw tokenRefusal(status, body, options.who);
  if (typeof body.access_token !== 'string' || body.access_token === '') {
    throw new PostroomError('PROTOCOL_ERROR', `${options.who}: the token endpoint answered without an access_token`);
  }
  const lifetime = Number(body.expires_in ?? DEFAULT_LIFETIME_S);
  const answer: TokenAnswer = {
    accessToken: body.access_token,
    expiresAt: options.now + (Number.isFinite(lifetime) && lifetime > 0 ? lifetime : DEFAULT_LIFETIME_S) * 1000,
  };
  if (typeof body.refresh_token === 'string' && body.refresh_token) answer.refreshToken = body.refresh_token;
  return answer;
}
