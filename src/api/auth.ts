/**
 * Bearer-token check, decided on the route the router matched (never on the raw URL, which the
 * router decodes before matching): every route needs the token unless it was registered with
 * PUBLIC_ROUTE. The comparison is constant-time (both sides hashed to the same length, then
 * timingSafeEqual), and failed attempts are rate limited per address. With no token configured
 * the server listens on loopback only (see listen-address.ts) and /api is open to local callers
 * that name a loopback Host (see request-guard.ts).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { PostroomError } from '../model/errors.ts';
import type { LoginLimiter } from './login-limiter.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without the token (health, metrics, docs, the UI's own files). Absent means "token". */
    public?: boolean;
  }
}

/** Route config for the few routes anyone may call; everything else needs the token. */
export const PUBLIC_ROUTE = Object.freeze({ public: true });

/** True only for a route registered as public; an unknown or unmatched route is not. */
export function isPublicRoute(request: FastifyRequest): boolean {
  return request.routeOptions.config?.public === true;
}

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

export function tokenMatches(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

function bearerOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  return match?.[1];
}

/** Throws UNAUTHORIZED or TOO_MANY_ATTEMPTS; returns when the request may go on. */
export function authorize(request: FastifyRequest, token: string | undefined, limiter: LoginLimiter): void {
  if (token === undefined) return;
  const address = request.ip;
  const given = bearerOf(request);
  // The right token is accepted before the limiter is asked: otherwise ten wrong guesses from a
  // shared address (a NAT, a reverse proxy, which all look like one client) would lock the
  // operator out. What makes guessing hopeless is the token's length (32+ characters beyond
  // loopback, see listen-address.ts); the limiter keeps a guesser out of the log and the CPU.
  if (given !== undefined && tokenMatches(given, token)) return;
  const wait = limiter.blockedFor(address);
  if (wait > 0) throw new PostroomError('TOO_MANY_ATTEMPTS', undefined, { retryAfterMs: wait });
  // Only a wrong token is a failed login; a request without one (a first page load) is not a guess.
  if (given !== undefined) limiter.fail(address);
  throw new PostroomError('UNAUTHORIZED', given === undefined ? 'send Authorization: Bearer <api.token>' : 'the token is not the one configured in api.token');
}
