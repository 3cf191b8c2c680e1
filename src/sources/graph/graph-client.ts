/**
 * Microsoft Graph over plain HTTPS (node:https, no SDK), for one mailbox: bearer token from the
 * token provider (refreshed once and retried on 401), `Prefer: IdType="ImmutableId"` on every
 * request (inside a $batch too) so ids survive moves, every request counted against the
 * mailbox's request budget (request-budget.ts) and sent through the mailbox gate (4 in flight,
 * none during a penalty), a 429 MailboxConcurrency retried once one of our own requests ends,
 * JSON `$batch`, and `$value` handed over as a stream.
 *
 * No Graph SDK (why, with the measurements: docs/decisions.md).
 */
import { randomUUID } from 'node:crypto';
import { finished, PassThrough, Readable } from 'node:stream';
import type { TokenProvider } from '../../auth/token-provider.ts';
import type { GraphConnectionConfig } from '../../config/schema.ts';
import { PostroomError } from '../../model/errors.ts';
import type { RequestCounter } from '../../model/request-counter.ts';
import { endpointOf, type HttpResponse, httpRequest, readText } from '../../net/https.ts';
import { classifyNetworkError } from '../../net/network-errors.ts';
import { headerValue, parseRetryAfter } from '../../net/server-wait.ts';
import { type GraphStage, graphError, isMailboxConcurrency } from './graph-errors.ts';
import { GRAPH_MAX_CONCURRENT_PER_MAILBOX, type MailboxGate, mailboxGate } from './mailbox-gate.ts';
import { type BudgetSettings, budgetAccount, GRAPH_REQUEST_BUDGET, type RequestBudget, requestBudget } from './request-budget.ts';

/** Graph's v1.0 API; beta is never used in production code. */
const API_VERSION = 'v1.0';

/** Immutable ids stay the same when a message moves between folders (learn.microsoft.com "Obtain immutable identifiers for Outlook resources"). */
const PREFER_IMMUTABLE_IDS = 'IdType="ImmutableId"';

/** A $value download may pause this long between bytes before it counts as dropped. */
const DOWNLOAD_IDLE_TIMEOUT_MS = 120_000;

/** Graph's limit on requests in one JSON batch (https://learn.microsoft.com/en-us/graph/json-batching). */
export const GRAPH_BATCH_LIMIT = 20;

/**
 * Times one request is sent again after 429 MailboxConcurrency, each once a request of ours has
 * ended; beyond that the mailbox is taken as throttled.
 */
const CONCURRENCY_RETRIES = 5;
/** MailboxConcurrency's own Retry-After, when none is given. */
const CONCURRENCY_FALLBACK_MS = 1_000;

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
  /** Requests this costs in the budget (a $batch: its envelope and every request in it). Default 1. */
  cost?: number;
  /** Places in the mailbox gate it holds while in flight (a $batch: as many as Graph runs at once). Default 1. */
  slots?: number;
}

/** One request inside a JSON $batch. */
export interface BatchItem {
  id: string;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** A path below /users/{mailbox}/. */
  path: string;
  json?: unknown;
}

/** Graph's answer to one request of a $batch (each has its own status; the envelope's 200 says nothing about them). */
export interface BatchAnswer {
  id: string;
  status: number;
  headers: Record<string, string | undefined>;
  body?: unknown;
}

export interface GraphClientOptions {
  now?: () => number;
  /** Where requests are counted (the store, shared by every worker); else this process only. */
  requests?: RequestCounter;
  budget?: BudgetSettings;
  /** Shutdown: a wait for the budget ends early. */
  signal?: AbortSignal;
  /** Told once when Postroom starts waiting for room in the budget. */
  onPacing?: (waitMs: number, used: number) => void;
}

export interface GraphPage<T> {
  value?: T[];
  '@odata.nextLink'?: string;
}

export class GraphClient {
  readonly gate: MailboxGate;
  readonly budget: RequestBudget;
  private readonly base: string;
  private readonly batchUrl: string;
  private readonly origin: string;
  private readonly now: () => number;
  private readonly signal: AbortSignal | undefined;

  constructor(
    private readonly connection: Pick<GraphConnectionConfig, 'graphEndpoint' | 'mailbox' | 'tls' | 'clientId'>,
    private readonly tokens: TokenProvider,
    options: GraphClientOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.signal = options.signal;
    this.origin = new URL(connection.graphEndpoint).origin;
    const root = `${connection.graphEndpoint.replace(/\/+$/, '')}/${API_VERSION}`;
    this.base = `${root}/users/${encodeURIComponent(connection.mailbox)}/`;
    this.batchUrl = `${root}/$batch`;
    this.gate = mailboxGate(connection.graphEndpoint, connection.mailbox, this.now);
    const account = budgetAccount(connection.graphEndpoint, connection.clientId, connection.mailbox);
    this.budget = requestBudget(account, options.requests, options.budget ?? GRAPH_REQUEST_BUDGET, options.onPacing);
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
    const { response, release } = await this.exchange(request);
    finished(response.body, () => release());
    return response;
  }

  /** send's work: a 2xx response and the release of its place in the gate, for the caller to call once it has read it. */
  private async exchange(request: GraphRequest): Promise<{ response: HttpResponse; release: () => void }> {
    const url = this.url(request.path);
    let refreshed = false;
    for (let crowded = 0; ; ) {
      // Every attempt counts: Graph counts retries too. One refused by a penalty is never sent, so not counted.
      this.gate.checkOpen();
      await this.budget.take(request.cost ?? 1, this.signal);
      const release = await this.gate.acquire(request.slots ?? 1);
      let response: HttpResponse;
      try {
        // A request that waited for its place may find a penalty that began meanwhile: it is not sent.
        this.gate.checkOpen();
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
        throw (
          classifyNetworkError(error, endpointOf(url)) ??
          new PostroomError('CONNECTION_LOST', `${endpointOf(url).host}: ${(error as Error).message}`, { cause: error })
        );
      }
      if (response.status >= 200 && response.status < 300) {
        this.gate.succeeded();
        return { response, release };
      }
      const text = await readText(response.body).catch(() => '');
      release();
      if (response.status === 404 && request.missingIsDone)
        return { response: { status: 404, headers: response.headers, body: Readable.from([]) }, release: () => {} };
      if (response.status === 401 && !refreshed) {
        // The token expired early or was revoked: a fresh one, once.
        refreshed = true;
        this.tokens.invalidate();
        continue;
      }
      if (isMailboxConcurrency(response.status, text) && crowded < CONCURRENCY_RETRIES) {
        // Too many of our requests in flight (another process of the app, or Graph counting a
        // batch differently): again once one of ours has ended, not merely after a while.
        crowded += 1;
        await this.gate.ownRequestFinished(parseRetryAfter(headerValue(response.headers, 'retry-after'), this.now()) ?? CONCURRENCY_FALLBACK_MS);
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

  /**
   * Up to 20 requests in one JSON $batch, unordered, so Graph runs up to 4 of them at once against
   * the mailbox: the batch holds that many places in the gate, and costs its envelope plus every
   * request in the budget. Each request carries its own Prefer header. The answers are by id;
   * each must be checked on its own (a throttled one has its own 429 and Retry-After).
   */
  async batch(items: readonly BatchItem[], what: string): Promise<Map<string, BatchAnswer>> {
    if (items.length === 0) return new Map();
    if (items.length > GRAPH_BATCH_LIMIT) throw new Error(`a Graph $batch holds at most ${GRAPH_BATCH_LIMIT} requests, not ${items.length}`);
    const mailbox = `/users/${encodeURIComponent(this.connection.mailbox)}/`;
    const requests = items.map((item) => ({
      id: item.id,
      method: item.method,
      url: mailbox + item.path,
      headers: { Prefer: PREFER_IMMUTABLE_IDS, ...(item.json !== undefined ? { 'Content-Type': 'application/json' } : {}) },
      ...(item.json !== undefined ? { body: item.json } : {}),
    }));
    const { response: reply, release } = await this.exchange({
      method: 'POST',
      path: this.batchUrl,
      json: { requests },
      stage: 'acknowledge',
      what,
      cost: items.length + 1,
      slots: Math.min(items.length, GRAPH_MAX_CONCURRENT_PER_MAILBOX),
    });
    const answers = new Map<string, BatchAnswer>();
    try {
      const text = await readText(reply.body);
      let answer: { responses?: Array<Partial<BatchAnswer>> } | undefined;
      try {
        answer = text ? (JSON.parse(text) as typeof answer) : undefined;
      } catch (error) {
        throw new PostroomError('PROTOCOL_ERROR', `Graph answered ${what} with something that is not JSON`, { cause: error });
      }
      for (const response of answer?.responses ?? []) {
        if (typeof response.id !== 'string' || typeof response.status !== 'number') continue;
        const headers: Record<string, string | undefined> = {};
        for (const [name, value] of Object.entries(response.headers ?? {})) headers[name.toLowerCase()] = typeof value === 'string' ? value : undefined;
        answers.set(response.id, { id: response.id, status: response.status, headers, ...(response.body !== undefined ? { body: response.body } : {}) });
      }
      // A throttled request inside the batch holds the mailbox before this batch gives its places
      // back: a batch waiting for them would otherwise go out before anyone read the 429.
      for (const item of answers.values()) {
        const body = typeof item.body === 'string' ? item.body : JSON.stringify(item.body ?? '');
        if (item.status < 400 || item.status === 404 || isMailboxConcurrency(item.status, body)) continue;
        const error = graphError(item.status, item.headers, body, 'acknowledge', what, this.now());
        if (error.code === 'THROTTLED') this.gate.penalise(error.retryAfterMs);
      }
    } finally {
      release();
    }
    return answers;
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
