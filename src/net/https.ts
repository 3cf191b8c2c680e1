/**
 * The one small HTTP(S) client behind the OAuth2 token endpoints and Microsoft Graph: node:https
 * with keep-alive agents, extra CAs added to (not replacing) the system roots, an idle timeout,
 * and the response body left as a stream so large downloads ($value) never sit in memory.
 *
 * Plain http:// is refused except on loopback addresses (tests, local identity providers):
 * client secrets and tokens never cross a network unencrypted.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Readable } from 'node:stream';
import tls from 'node:tls';
import { PostroomError } from '../model/errors.ts';
import { resolveCa } from './probe.ts';

export interface HttpTls {
  rejectUnauthorized?: boolean;
  /** Extra CA certificate(s), PEM text or a path to a PEM file; added to the system roots. */
  ca?: string | undefined;
  servername?: string | undefined;
}

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT';
  url: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  tls?: HttpTls;
  /** How long the socket may stay silent before the request fails with ETIMEDOUT. */
  idleTimeoutMs?: number;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string | undefined>;
  /** Must be consumed or destroyed. */
  body: Readable;
}

/** A silent socket this long is dead: Graph and token endpoints answer within seconds, a big $value keeps bytes flowing. */
const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

/** Sockets kept per origin: Graph allows 4 requests in flight per mailbox, a few mailboxes share an app. */
const MAX_SOCKETS_PER_ORIGIN = 16;

/** Bodies read whole (JSON, errors) are small; anything larger is a misbehaving server. */
export const MAX_TEXT_BODY_BYTES = 4 * 1024 * 1024;

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

const agents = new Map<string, http.Agent>();

function agentFor(url: URL, options: HttpTls | undefined): http.Agent {
  // Keyed by the option as given (PEM text or a path): a CA file is read once, when its agent is made.
  const key = `${url.protocol}|${options?.rejectUnauthorized ?? true}|${options?.servername ?? ''}|${options?.ca ?? ''}`;
  let agent = agents.get(key);
  if (!agent) {
    const ca = url.protocol === 'http:' ? undefined : resolveCa(options?.ca);
    agent =
      url.protocol === 'http:'
        ? new http.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS_PER_ORIGIN })
        : new https.Agent({
            keepAlive: true,
            maxSockets: MAX_SOCKETS_PER_ORIGIN,
            rejectUnauthorized: options?.rejectUnauthorized ?? true,
            ...(ca ? { ca: [...tls.rootCertificates, ca] } : {}),
            ...(options?.servername ? { servername: options.servername } : {}),
          });
    agents.set(key, agent);
  }
  return agent;
}

export function isLoopback(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || (net.isIPv4(host) && host.startsWith('127.'));
}

/** Host and port of a URL, for error messages and the network error classifier. */
export function endpointOf(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port || (parsed.protocol === 'http:' ? 80 : 443)) };
}

/** Sends one request; resolves when the response headers arrive. Network failures reject with Node's coded error. */
export function httpRequest(request: HttpRequest): Promise<HttpResponse> {
  const url = new URL(request.url);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname))) {
    return Promise.reject(
      new PostroomError('CONFIG_INVALID', `${url.origin} is not https://`, {
        hint: 'Tokens and secrets only travel over HTTPS (plain http is allowed on loopback only).',
      }),
    );
  }
  const transport = url.protocol === 'http:' ? http : https;
  const body = typeof request.body === 'string' ? Buffer.from(request.body, 'utf8') : request.body;
  return new Promise((resolve, reject) => {
    const req = transport.request(url, {
      method: request.method,
      agent: agentFor(url, request.tls),
      headers: { ...request.headers, ...(body ? { 'content-length': String(body.length) } : {}) },
      ...(request.signal ? { signal: request.signal } : {}),
    });
    req.setTimeout(request.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS, () => {
      req.destroy(Object.assign(new Error(`no answer from ${url.host} in time`), { code: 'ETIMEDOUT' }));
    });
    req.once('error', reject);
    req.once('response', (response) => {
      const headers: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(response.headers)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      resolve({ status: response.statusCode ?? 0, headers, body: response });
    });
    req.end(body);
  });
}

/** Reads a (small) body as text; rejects past `limit` bytes. */
export async function readText(body: Readable, limit = MAX_TEXT_BODY_BYTES): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > limit) {
      body.destroy();
      throw new PostroomError('PROTOCOL_ERROR', `the response body is larger than ${limit} bytes`);
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Parses JSON, or undefined when the text is not JSON (an HTML error page from a proxy). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
