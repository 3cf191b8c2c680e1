/**
 * Bearer-token check for every /api route. The comparison is constant-time (both sides hashed to
 * the same length, then timingSafeEqual), and failed attempts are rate limited per address.
 * With no token configured the server listens on loopback only (see listen-address.ts) and
 * /api is open to local callers.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { PostroomError } from '../errors.ts';
import type { LoginLimiter } from './login-limiter.ts';

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

export function isApiPath(url: string): boolean {
  return url === '/api' || url.startsWith('/api/') || url.startsWith('/api?');
}

/** Throws UNAUTHORIZED or TOO_MANY_ATTEMPTS; returns when the request may go on. */
export function authorize(request: FastifyRequest, token: string | undefined, limiter: LoginLimiter): void {
  if (token === undefined) return;
  const address = request.ip;
  const wait = limiter.blockedFor(address);
  if (wait > 0) throw new PostroomError('TOO_MANY_ATTEMPTS', undefined, { retryAfterMs: wait });
  const given = bearerOf(request);
  if (given !== undefined && tokenMatches(given, token)) return;
  // Only a wrong token is a failed login; a request without one (a first page load) is not a guess.
  if (given !== undefined) limiter.fail(address);
  throw new PostroomError('UNAUTHORIZED', given === undefined ? 'send Authorization: Bearer <api.token>' : 'the token is not the one configured in api.token');
}
