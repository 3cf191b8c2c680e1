/**
 * Where the API listens: `api.listen` ("127.0.0.1:8025", "0.0.0.0:8025", "[::1]:8025", ":8025").
 * Without `api.token` the API has no authentication, so it is bound to loopback whatever
 * `api.listen` says, and says so; with one, listening beyond loopback wants a long token.
 */
import { PostroomError } from '../model/errors.ts';

export const DEFAULT_API_PORT = 8025;
/**
 * Shortest api.token accepted beyond loopback: 32 random hex characters are 128 bits, out of
 * reach of guessing at any rate (the login limiter does not stop a guesser who finds the right
 * one, by design: it never locks out the right token).
 */
export const MIN_EXPOSED_TOKEN_LENGTH = 32;

export interface ListenAddress {
  host: string;
  port: number;
  /** Why the configured host was replaced, when it was. */
  note?: string;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export function parseListen(listen: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*))(?::(\d+))?$/.exec(listen.trim());
  const port = match?.[3] === undefined ? DEFAULT_API_PORT : Number(match[3]);
  if (!match || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new PostroomError('CONFIG_INVALID', `api.listen: "${listen}" is not host:port (e.g. 127.0.0.1:8025)`);
  }
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port };
}

export function resolveListen(listen: string, token: string | undefined): ListenAddress {
  const { host, port } = parseListen(listen);
  if (isLoopback(host)) return { host, port };
  if (token && token.length < MIN_EXPOSED_TOKEN_LENGTH) {
    throw new PostroomError('CONFIG_INVALID', `api.token: ${token.length} characters is too short to listen on ${listen}`, {
      hint: `beyond loopback the token must be at least ${MIN_EXPOSED_TOKEN_LENGTH} characters; make one with \`openssl rand -hex 32\``,
    });
  }
  if (token) return { host, port };
  return {
    host: '127.0.0.1',
    port,
    note: `api.token is not set, so the API listens on loopback only (127.0.0.1:${port}) instead of ${listen}; set api.token to listen on ${host}`,
  };
}

export function urlOf(address: { host: string; port: number }, scheme: 'http' | 'https' = 'http'): string {
  const host = address.host === '0.0.0.0' || address.host === '::' ? 'localhost' : address.host;
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${address.port}/`;
}
