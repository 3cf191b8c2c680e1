/**
 * A small OAuth2 authorisation server on loopback (plain HTTP, which Postroom allows on loopback
 * only): a token endpoint for the refresh-token and client-credentials grants (RFC 6749) and a
 * token introspection endpoint (RFC 7662) that Dovecot's oauth2 passdb asks whether a token is
 * good. Tests expire or revoke tokens to see the client refresh them.
 */
import { randomBytes } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

interface AccessToken {
  user: string;
  expiresAt: number;
  /** Set by the test: the introspection endpoint reports the token inactive. */
  dead: boolean;
}

export interface FakeOAuth2 {
  url: string;
  tokenUrl: string;
  introspectionUrl: string;
  clientId: string;
  clientSecret: string;
  /** Seconds of validity of issued access tokens. */
  lifetimeS: number;
  /** Issue a new refresh token with every answer (rotation). */
  rotateRefreshTokens: boolean;
  /** Token endpoint requests so far, by grant type. */
  tokenRequests: Array<{ grant: string; at: number }>;
  /** Introspection answers so far. */
  introspections: Array<{ active: boolean; at: number }>;
  /** A refresh token that signs `user` in. */
  addRefreshToken(refreshToken: string, user: string): void;
  revokeRefreshToken(refreshToken: string): void;
  /** Every access token issued so far stops working (as if it expired early or was revoked). */
  killAccessTokens(): void;
  /** Access tokens issued so far, newest last. */
  issued(): string[];
  /** What the introspection endpoint would say about a token (for servers the test runs itself). */
  isActive(token: string): boolean;
  close(): Promise<void>;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function form(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export async function startFakeOAuth2(): Promise<FakeOAuth2> {
  const refreshTokens = new Map<string, { user: string; revoked: boolean }>();
  const accessTokens = new Map<string, AccessToken>();

  const issue = (user: string): string => {
    const token = `at-${randomBytes(18).toString('base64url')}`;
    accessTokens.set(token, { user, expiresAt: Date.now() + fake.lifetimeS * 1000, dead: false });
    return token;
  };

  const server = http.createServer((req, res) => {
    void (async () => {
      const body = await form(req);
      if (req.url === '/token' && req.method === 'POST') {
        const grant = body.get('grant_type') ?? '';
        fake.tokenRequests.push({ grant, at: Date.now() });
        if (body.get('client_id') !== fake.clientId || body.get('client_secret') !== fake.clientSecret) {
          return json(res, 401, { error: 'invalid_client', error_description: 'Client authentication failed.' });
        }
        if (grant === 'refresh_token') {
          const presented = body.get('refresh_token') ?? '';
          const known = refreshTokens.get(presented);
          if (!known || known.revoked) return json(res, 400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
          const answer: Record<string, unknown> = { access_token: issue(known.user), token_type: 'Bearer', expires_in: fake.lifetimeS, scope: 'mail' };
          if (fake.rotateRefreshTokens) {
            const next = `rt-${randomBytes(12).toString('base64url')}`;
            refreshTokens.set(next, { user: known.user, revoked: false });
            known.revoked = true;
            answer.refresh_token = next;
          }
          return json(res, 200, answer);
        }
        return json(res, 400, { error: 'unsupported_grant_type' });
      }
      if (req.url === '/introspect' && req.method === 'POST') {
        const token = accessTokens.get(body.get('token') ?? '');
        const active = !!token && !token.dead && token.expiresAt > Date.now();
        fake.introspections.push({ active, at: Date.now() });
        return json(res, 200, active ? { active: true, username: token.user, scope: 'mail', exp: Math.floor(token.expiresAt / 1000) } : { active: false });
      }
      json(res, 404, { error: 'not_found' });
    })().catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const fake: FakeOAuth2 = {
    url,
    tokenUrl: `${url}/token`,
    introspectionUrl: `${url}/introspect`,
    clientId: 'postroom-test-client',
    clientSecret: 'client-secret-xyz',
    lifetimeS: 3600,
    rotateRefreshTokens: false,
    tokenRequests: [],
    introspections: [],
    addRefreshToken(refreshToken, user) {
      refreshTokens.set(refreshToken, { user, revoked: false });
    },
    revokeRefreshToken(refreshToken) {
      const known = refreshTokens.get(refreshToken);
      if (known) known.revoked = true;
    },
    killAccessTokens() {
      for (const token of accessTokens.values()) token.dead = true;
    },
    issued: () => [...accessTokens.keys()],
    isActive(token) {
      const known = accessTokens.get(token);
      return !!known && !known.dead && known.expiresAt > Date.now();
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return fake;
}
