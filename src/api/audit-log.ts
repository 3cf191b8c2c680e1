/**
 * The audit trail: one info line per API mutation (who, what, from where, the outcome) and one
 * warn line per refused request (missing or wrong token, blocked address, Host, Origin, simple
 * request). Only the route, its path parameters, a created connection's name, the address and
 * the status are logged: never a header, a token or a body.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { PostroomError } from '../model/errors.ts';
import { isMutation } from './request-guard.ts';

/** Requests that passed the token check (or needed none), and as whom. */
const callers = new WeakMap<FastifyRequest, 'token' | 'loopback'>();

export function recordCaller(request: FastifyRequest, tokenConfigured: boolean): void {
  callers.set(request, tokenConfigured ? 'token' : 'loopback');
}

/** The route pattern, or "unmatched" (a raw URL is the caller's text and may be anything). */
const routeOf = (request: FastifyRequest): string => request.routeOptions.url ?? 'unmatched';

function subjectOf(request: FastifyRequest): Record<string, string> {
  const params = (request.params ?? {}) as Record<string, unknown>;
  const subject: Record<string, string> = {};
  if (typeof params.name === 'string') subject.connection = params.name;
  if (typeof params.id === 'string') subject.deadLetter = params.id;
  // POST /api/connections carries the new connection's name in the body; only the name is taken.
  const name = (request.body as { name?: unknown } | undefined)?.name;
  if (subject.connection === undefined && routeOf(request) === '/api/connections' && typeof name === 'string') subject.connection = name;
  return subject;
}

export function logMutation(request: FastifyRequest, reply: FastifyReply): void {
  if (!isMutation(request.method)) return;
  const who = callers.get(request) ?? 'unauthenticated';
  request.log.info(
    { audit: 'mutation', who, method: request.method, route: routeOf(request), ...subjectOf(request), ip: request.ip, status: reply.statusCode },
    `API ${request.method} ${routeOf(request)} by ${who}: ${reply.statusCode}`,
  );
}

export function logRefusal(request: FastifyRequest, error: PostroomError): void {
  request.log.warn(
    { audit: 'refused', code: error.code, reason: error.message, method: request.method, route: routeOf(request), ip: request.ip },
    `API request refused from ${request.ip}: ${error.message}`,
  );
}
