/**
 * What a browser on another site could make a user's browser send, refused before any route
 * runs (these are the defences that do not depend on the token):
 * - Host: with no api.token only a loopback name is accepted (localhost, 127.x.x.x, [::1], any
 *   port), so a DNS-rebinding page (attacker.example resolving to 127.0.0.1) gets nothing.
 * - Origin: when a browser says where the request comes from, it must be this server's own
 *   host. The scheme is not compared, so a TLS-terminating reverse proxy in front still works.
 * - Every mutation must be a request a page cannot send without a CORS preflight (which this
 *   server never grants): a JSON body or the X-Postroom-Request header. A form post or a
 *   text/plain fetch from another site is refused.
 */
import type { FastifyRequest } from 'fastify';
import { PostroomError } from '../model/errors.ts';
import { isLoopback } from './listen-address.ts';

/** The header the web UI sends on every call; any value will do, its presence forces a preflight. */
export const REQUEST_HEADER = 'x-postroom-request';

const MUTATIONS = new Set(['POST', 'PUT', 'DELETE', 'PATCH']);

export function isMutation(method: string): boolean {
  return MUTATIONS.has(method.toUpperCase());
}

/** Longest Host or Origin quoted back in an error; longer ones are cut (they are the caller's text). */
const QUOTE_LIMIT = 80;
const quote = (text: string): string => JSON.stringify(text.length > QUOTE_LIMIT ? `${text.slice(0, QUOTE_LIMIT)}…` : text);

function hostnameOf(authority: string): string | undefined {
  try {
    return new URL(`http://${authority}`).hostname;
  } catch {
    return undefined;
  }
}

/** A URL's hostname keeps the brackets of an IPv6 literal ("[::1]"). */
const isLoopbackHostname = (hostname: string): boolean => isLoopback(hostname.replace(/^\[(.*)\]$/, '$1'));

/** The authority the client asked for: an absolute-form target's own, else the Host header. */
function authorityOf(request: FastifyRequest): string {
  const target = request.raw.url ?? '';
  if (!target.startsWith('/')) {
    try {
      return new URL(target).host;
    } catch {
      return '';
    }
  }
  return request.host;
}

function sameOrigin(origin: string, authority: string): boolean {
  try {
    const from = new URL(origin);
    // Parsed with the origin's own scheme, so a default port (":443") compares equal to none.
    return from.host === new URL(`${from.protocol}//${authority}`).host;
  } catch {
    return false;
  }
}

function isNonSimple(request: FastifyRequest): boolean {
  if (request.headers[REQUEST_HEADER] !== undefined) return true;
  const type = request.headers['content-type'];
  return typeof type === 'string' && type.split(';')[0]!.trim().toLowerCase() === 'application/json';
}

/** Host and Origin, for every request: throws REQUEST_REFUSED (403) naming the rule. */
export function guardOrigin(request: FastifyRequest, tokenConfigured: boolean): void {
  const authority = authorityOf(request);
  if (!tokenConfigured) {
    const hostname = hostnameOf(authority);
    if (hostname === undefined || !isLoopbackHostname(hostname)) {
      throw new PostroomError('REQUEST_REFUSED', `Host ${quote(authority)} is not a loopback name`, {
        hint: 'without api.token the API answers only to localhost, 127.x.x.x or [::1] (so a DNS-rebinding page gets nothing); set api.token to reach it by another name',
      });
    }
  }
  const origin = request.headers.origin;
  if (origin !== undefined && !sameOrigin(origin, authority)) {
    throw new PostroomError('REQUEST_REFUSED', `Origin ${quote(origin)} is not this server`, {
      hint: 'only pages served by Postroom itself may call its API from a browser',
    });
  }
}

/** Mutations only, after the token check: throws REQUEST_REFUSED unless the request is non-simple. */
export function guardMutation(request: FastifyRequest): void {
  if (isMutation(request.method) && !isNonSimple(request)) {
    throw new PostroomError('REQUEST_REFUSED', `a ${request.method} without a JSON body or the ${REQUEST_HEADER} header`, {
      hint: `send Content-Type: application/json or the header "X-Postroom-Request: 1" (a page on another site cannot send either)`,
    });
  }
}
