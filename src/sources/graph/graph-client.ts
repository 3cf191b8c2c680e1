/**
 * Microsoft Graph over plain HTTPS (node:https, no SDK), for one mailbox: bearer token from the
 * token provider (refreshed once and retried on 401), `Prefer: IdType="ImmutableId"` so ids
 * survive moves, every request through the mailbox gate (4 in flight, none during a penalty),
 * paging by `@odata.nextLink`, and `$value` handed over as a stream.
 *
 * No Graph SDK (why, with the measurements: docs/decisions.md).
 */
import { randomUUID } from 'node:crypto';
import { finished, PassThrough, Readable } from 'node:stream';
import type { GraphConnectionConfig } from '../../config/schema.ts';
import { PostroomError } from '../../model/errors.ts';
import { endpointOf, httpRequest, readText, type HttpResponse } from '../../net/https.ts';
import type { TokenProvider } from '../../auth/token-provider.ts';
import { classifyNetworkError } from '../../net/network-errors.ts';
import { graphError, type GraphStage } from './graph-errors.ts';
import { mailboxGate, type MailboxGate } from './mailbox-gate.ts';

/** Graph's v1.0 API; beta is never used in production code. */
const API_VERSION = 'v1.0';

/** Immutable ids stay the same when a message moves between folders (learn.microsoft.com "Obtain immutable identifiers for Outlook resources"). */
const PREFER_IMMUTABLE_IDS = 'IdType="ImmutableId"';

/** A $value download may pause this long between bytes before it counts as dropped. */
const DOWNLOAD_IDLE_TIMEOUT_MS = 120_000;

export interface GraphRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** A path below /users/{mailbox}/ ("mailFolders/inbox") or an absolute URL on the Graph endpoint (@odata.nextLink). */
  path: string;
  json?: unknown;
  /** A raw body with its content type (sendMail with MIME). */
  raw?: { body: Buffer; contentType: string };
  stage: GraphStage;
  /** Names the thing asked for in error messages. */
  what: string;
  idleTimeoutMs?: number;
  /** A 404 means the work is already done (acknowledging a message someone deleted): answered as an empty success. */
  missingIsDone?: boolean;
}

export interface GraphPage<T> {
  value?: T[];
  '@odata.nextLink'?: string;
}

export class GraphClient {
  readonly gate: MailboxGate;
  private readonly base: string;
  private readonly origin: string;

  constructor(
    private readonly connection: Pick<GraphConnectionConfig, 'graphEndpoint' | 'mailbox' | 'tls'>,
    private readonly tokens: TokenProvider,
    private readonly now: () => number = Date.now,
  ) {
    this.origin = new URL(connection.graphEndpoint).origin;
    this.base = `${connection.graphEndpoint.replace(/\/+$/, '')}/${API_VERSION}/users/${encodeURIComponent(connection.mailbox)}/`;
    this.gate = mailboxGate(connection.graphEndpoint, connection.mailbox, now);
  }

  get mailbox(): string {
    return this.connection.mailbox;
  }

  private url(path: string): string {
    if (!/^https?:\/\//i.test(path)) return this.base + path;
    // A nextLink must stay on the Graph endpoint: the bearer token goes with it.
    if (new URL(path).origin !== this.origin) throw new PostroomError('PROTOCOL_ERROR', `Graph sent a link to another host (${new URL(path).origin})`);
    return path;
  }

  /**
   * Sends a request and returns a 2xx response whose body the caller must consume or destroy;
   * the request keeps its place in the gate until then. Anything else becomes a PostroomError.
   */
  async send(request: GraphRequest): Promise<HttpResponse> {
    const url = this.url(request.path);
    for (let attempt = 0; ; attempt++) {
      const release = await this.gate.acquire();
      let response: HttpResponse;
      try {
        const token = await this.tokens.getToken();
        const body = request.raw?.body ?? (request.json !== undefined ? Buffer.from(JSON.stringify(request.json)) : undefined);
        response = await httpRequest({
          method: request.method,
          url,
          headers: {
            authorization: `Bearer ${token}`,
            prefer: PREFER_IMMUTABLE_IDS,
            accept: 'application/json',
            'client-request-id': randomUUID(),
            ...(request.raw ? { 'content-type': request.raw.contentType } : request.json !== undefined ? { 'content-type': 'application/json' } : {}),
          },
          ...(body ? { body } : {}),
          tls: this.connection.tls,
          ...(request.idleTimeoutMs ? { idleTimeoutMs: request.idleTimeoutMs } : {}),
        });
      } catch (error) {
        release();
        if (error instanceof PostroomError) throw error;
        throw classifyNetworkError(error, endpointOf(url)) ?? new PostroomError('CONNECTION_LOST', `${endpointOf(url).host}: ${(error as Error).message}`, { cause: error });
      }
      if (response.status >= 200 && response.status < 300) {
        this.gate.succeeded();
        finished(response.body, () => release());
        return response;
      }
      const text = await readText(response.body).catch(() => '');
      release();
      if (response.status === 404 && request.missingIsDone) return { status: 404, headers: response.headers, body: Readable.from([]) };
      if (response.status === 401 && attempt === 0) {
        // The token expired early or was revoked: a fresh one, once.
        this.tokens.invalidate();
        continue;
      }
      const error = graphError(response.status, response.headers, text, request.stage, request.what, this.now());
      if (error.code === 'THROTTLED') this.gate.penalise(error.retryAfterMs);
      throw error;
    }
  }

  /** A request whose answer is JSON (or empty: 202, 204). */
  async json<T>(request: GraphRequest): Promise<T | undefined> {
    const response = await this.send(request);
    const text = await readText(response.body);
    if (!text) return undefined;
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw new PostroomError('PROTOCOL_ERROR', `Graph answered ${request.what} with something that is not JSON`, { cause: error });
    }
  }

  /** Every item of a collection, page after page (`@odata.nextLink`), at most `limit`. */
  async collect<T>(request: GraphRequest, limit: number): Promise<T[]> {
    const items: T[] = [];
    let next: string | undefined = request.path;
    while (next && items.length < limit) {
      const page: GraphPage<T> | undefined = await this.json<GraphPage<T>>({ ...request, path: next });
      items.push(...(page?.value ?? []));
      next = page?.['@odata.nextLink'];
    }
    return items.slice(0, limit);
  }

  /**
   * A streamed download. A connection that drops before the last byte makes the stream fail with
   * CONNECTION_LOST, so a cut-off email is never taken for a whole one.
   */
  async download(path: string, what: string): Promise<Readable> {
    const response = await this.send({ method: 'GET', path, stage: 'fetch', what, idleTimeoutMs: DOWNLOAD_IDLE_TIMEOUT_MS });
    const source = response.body;
    const out = new PassThrough();
    const host = endpointOf(this.base).host;
    const lost = (error?: Error): void => {
      out.destroy(new PostroomError('CONNECTION_LOST', `${host}: the connection dropped while downloading ${what}`, { cause: error }));
    };
    source.once('error', lost);
    source.once('close', () => {
      if (!source.readableEnded) lost();
    });
    out.once('close', () => {
      if (!source.readableEnded) source.destroy();
    });
    source.pipe(out);
    return out;
  }
}

export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
