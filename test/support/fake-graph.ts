/**
 * A local stand-in for Microsoft Graph (mail) and the Microsoft identity platform's token
 * endpoint, over HTTPS with a certificate made by openssl at start, following the documented
 * shapes: client-credentials tokens with AADSTS errors, mailFolders and childFolders, unread
 * messages filtered, ordered and paged by `@odata.nextLink` ($skip, as Graph does for messages),
 * `$select` (only the properties named, computed from the stored MIME: fake-graph-fields.ts;
 * every request logs the bytes answered), `$count`, `$value`, PATCH isRead, DELETE, move, sendMail, and JSON `$batch` (at
 * most 20 requests, each answered on its own, at most 4 of them at a time against the mailbox).
 *
 * It also watches the client, per mailbox (fake-graph-limits.ts): requests in flight (a fifth gets
 * Graph's 429 MailboxConcurrency), requests that arrive while a Retry-After penalty runs, the
 * request budget per window, and the Prefer header of every request, inside a $batch too. On
 * request it throttles like Exchange Online (`throttleLikeExchange`). Faults are injected per
 * request: 429 / 503 with or without Retry-After, or a connection dropped in the middle of `$value`.
 */
import { constants, createHash, randomBytes, randomUUID, verify, X509Certificate } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateTestCertificate } from './fake-certificate.ts';
import { MESSAGE_FIELDS, type MimeFields, mimeFields, needsMime } from './fake-graph-fields.ts';
import { type ExchangeThrottling, type LimitStats, MAILBOX_CONCURRENCY, MailboxLimits, type RequestBudget } from './fake-graph-limits.ts';

export type { ExchangeThrottling, LimitStats, RequestBudget } from './fake-graph-limits.ts';

/** Chunk size of a streamed $value; small enough that a drop lands mid-body. */
const VALUE_CHUNK = 16 * 1024;
const WELL_KNOWN = ['msgfolderroot', 'inbox', 'archive', 'deleteditems', 'sentitems', 'drafts', 'junkemail'] as const;
/** Graph's limit on requests in one JSON batch. */
const BATCH_LIMIT = 20;
/** $top on messages: 1 to 1000 (user-list-messages). */
const MAX_TOP = 1000;
/** Graph's default page size for messages. */
const DEFAULT_TOP = 10;
const IMMUTABLE = 'IdType="ImmutableId"';
/** What a listing without `$select` answers with here (Graph's own default is every property). */
const LISTED_FIELDS = ['id', 'internetMessageId', 'receivedDateTime', 'isRead', 'parentFolderId', 'subject'] as const;
/** `receivedDateTime ge <time> and isRead eq false`: the documented way to combine $filter with $orderby. */
const DATED_UNREAD = /^receivedDateTime ge (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) and isRead eq false$/;

export interface FakeApp {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** Application permissions in issued tokens; [] is an app without admin consent. */
  roles: string[];
  /** A certificate credential (PEM): client assertions signed by its key are accepted instead of the secret. */
  certificatePem?: string;
}

export interface FakeFolder {
  id: string;
  displayName: string;
  parentId: string | null;
  wellKnown?: string;
}

export interface FakeMessage {
  id: string;
  folderId: string;
  raw: Buffer;
  isRead: boolean;
  internetMessageId: string;
  receivedDateTime: string;
}

export interface SeenRequest {
  kind: 'token' | 'graph';
  method: string;
  path: string;
  query: URLSearchParams;
  at: number;
  mailbox?: string;
  prefer?: string;
  /** A request inside a $batch: the batch's own request id. */
  inBatch?: string;
  /** A $batch envelope: how many requests it carried. */
  items?: number;
  /** The status the fake answered. */
  status?: number;
  /** Bytes of the body the fake answered (the JSON, or the MIME of a `$value`). */
  bytes?: number;
}

export type FaultResponse = { status: number; retryAfter?: string; code?: string; message?: string } | { dropAfterBytes: number };

interface Fault {
  when: (request: SeenRequest) => boolean;
  respond: FaultResponse;
  times: number;
}

interface IssuedToken {
  app: FakeApp;
  expiresAt: number;
  revoked: boolean;
}

interface Mailbox {
  upn: string;
  folders: Map<string, FakeFolder>;
  messages: Map<string, FakeMessage>;
  limits: MailboxLimits;
}

export interface SentMail {
  mailbox: string;
  mime?: Buffer;
  json?: unknown;
}

export interface FakeGraphOptions {
  /** Messages per page at most, whatever $top asks (Graph's own cap is 1000). */
  pageSize?: number;
  /** Time each request to a mailbox takes on the server, so concurrency shows. */
  latencyMs?: number;
}

export interface FakeGraph {
  /** https://127.0.0.1:port: both graphEndpoint and authorityHost. */
  url: string;
  caPem: string;
  /** Every request, in arrival order; requests inside a $batch are listed too (with `inBatch`). */
  requests: SeenRequest[];
  /** Requests that arrived while a Retry-After penalty was running for their mailbox, after the client could know it. */
  penaltyViolations: SeenRequest[];
  /** Requests answered 429 because the mailbox's request budget was spent. */
  budgetViolations: SeenRequest[];
  /** Graph requests (inside a $batch too) without `Prefer: IdType="ImmutableId"`. */
  missingImmutableIds: SeenRequest[];
  sent: SentMail[];
  /** Seconds of validity of new tokens. */
  tokenLifetimeS: number;
  addApp(app: FakeApp): void;
  addMailbox(upn: string): void;
  addFolder(upn: string, displayName: string, parent?: string): string;
  folderId(upn: string, ref: string): string;
  deliver(upn: string, raw: Buffer, folder?: string): string;
  messages(upn: string, folder?: string): FakeMessage[];
  /** Someone moves a message in Outlook: its immutable id stays. */
  move(upn: string, id: string, folder: string): void;
  /** Someone marks a message unread again in Outlook. */
  markUnread(upn: string, id: string): void;
  maxInFlight(upn: string): number;
  stats(upn: string): LimitStats;
  /** Throttle every mailbox (or one) like Exchange Online; undefined turns it off. */
  throttleLikeExchange(options: ExchangeThrottling | undefined, upn?: string): void;
  /** A request budget per window for every mailbox (or one): beyond it Graph answers 429. */
  setBudget(budget: RequestBudget | undefined, upn?: string): void;
  /** The most requests counted against a mailbox's budget in any window of `windowMs`. */
  busiestWindow(upn: string, windowMs: number): number;
  /** Requests of this app held open elsewhere (another process): they count toward the 4 in flight. */
  occupy(upn: string, requests: number): () => void;
  inject(when: (request: SeenRequest) => boolean, respond: FaultResponse, times?: number): void;
  /** Every issued token stops working (Graph answers 401). */
  expireTokens(): void;
  close(): Promise<void>;
}

/** What the fake answers one request with: JSON, a streamed $value, or nothing (204). */
interface Reply {
  status: number;
  headers?: Record<string, string>;
  json?: unknown;
  value?: { raw: Buffer; dropAfterBytes?: number };
}

function replyBytes(reply: Reply): number {
  if (reply.json !== undefined) return Buffer.byteLength(JSON.stringify(reply.json));
  return reply.value?.raw.length ?? 0;
}

/** One request to a mailbox, at the top level or inside a $batch. */
interface OutlookRequest {
  seen: SeenRequest;
  method: string;
  /** Path segments after /users/{mailbox}/. */
  rest: string[];
  query: URLSearchParams;
  contentType: string;
  body: () => Promise<Buffer>;
  app: FakeApp;
}

function immutableId(): string {
  // The shape of an Outlook immutable id: base64 with '-' and '_' and '=' padding.
  return `AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0A${randomBytes(24).toString('base64').replace(/\+/g, '-').replace(/\//g, '_')}`;
}

function jwt(payload: Record<string, unknown>): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ typ: 'JWT', alg: 'RS256', x5t: 'fake' })}.${part(payload)}.${randomBytes(32).toString('base64url')}`;
}

function aadError(res: ServerResponse, status: number, error: string, code: number, description: string): void {
  sendJson(res, status, {
    error,
    error_description: `AADSTS${code}: ${description}\r\nTrace ID: ${randomUUID()}\r\nCorrelation ID: ${randomUUID()}\r\nTimestamp: ${new Date().toISOString()}`,
    error_codes: [code],
    timestamp: new Date().toISOString(),
    trace_id: randomUUID(),
    correlation_id: randomUUID(),
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; odata.metadata=minimal', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function errorReply(status: number, code: string, message: string, headers: Record<string, string> = {}): Reply {
  return {
    status,
    headers,
    json: { error: { code, message, innerError: { date: new Date().toISOString(), 'request-id': randomUUID(), 'client-request-id': randomUUID() } } },
  };
}

/** Checks a certificate client assertion as the identity platform documents it: thumbprint header, signature, aud, iss, sub, exp. */
function assertionIsValid(assertion: string, app: FakeApp, tokenUrl: string): boolean {
  const [headerPart, payloadPart, signaturePart] = assertion.split('.');
  if (!headerPart || !payloadPart || !signaturePart) return false;
  const header = JSON.parse(Buffer.from(headerPart, 'base64url').toString('utf8')) as Record<string, string>;
  const payload = JSON.parse(Buffer.from(payloadPart, 'base64url').toString('utf8')) as Record<string, unknown>;
  const certificate = new X509Certificate(app.certificatePem!);
  const data = Buffer.from(`${headerPart}.${payloadPart}`);
  const signature = Buffer.from(signaturePart, 'base64url');
  let signed: boolean;
  if (header.alg === 'PS256') {
    const expected = createHash('sha256').update(certificate.raw).digest('base64url');
    signed =
      header['x5t#S256'] === expected &&
      verify('sha256', data, { key: certificate.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, signature);
  } else if (header.alg === 'RS256') {
    const expected = createHash('sha1').update(certificate.raw).digest('base64url');
    signed = header.x5t === expected && verify('sha256', data, certificate.publicKey, signature);
  } else {
    return false;
  }
  const now = Date.now() / 1000;
  return (
    signed &&
    payload.aud === tokenUrl &&
    payload.iss === app.clientId &&
    payload.sub === app.clientId &&
    typeof payload.exp === 'number' &&
    payload.exp > now &&
    typeof payload.jti === 'string'
  );
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function headerOf(headers: Record<string, unknown> | undefined, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers ?? {})) if (key.toLowerCase() === name && typeof value === 'string') return value;
  return undefined;
}

export async function startFakeGraph(options: FakeGraphOptions = {}): Promise<FakeGraph> {
  const certificate = await generateTestCertificate();
  const pageSize = Math.min(options.pageSize ?? 100, MAX_TOP);
  const apps: FakeApp[] = [];
  const tokens = new Map<string, IssuedToken>();
  const mailboxes = new Map<string, Mailbox>();
  const faults: Fault[] = [];
  let throttling: ExchangeThrottling | undefined;
  let budget: RequestBudget | undefined;
  let url = '';

  const mailboxOf = (upn: string): Mailbox => {
    const mailbox = mailboxes.get(upn.toLowerCase());
    if (!mailbox) throw new Error(`fake Graph has no mailbox ${upn}`);
    return mailbox;
  };
  const folderByRef = (mailbox: Mailbox, ref: string): FakeFolder | undefined => {
    const lower = ref.toLowerCase();
    for (const folder of mailbox.folders.values()) if (folder.id === ref || folder.wellKnown === lower) return folder;
    return undefined;
  };
  const each = (upn: string | undefined, apply: (mailbox: Mailbox) => void): void => {
    if (upn) apply(mailboxOf(upn));
    else for (const mailbox of mailboxes.values()) apply(mailbox);
  };

  const fake: FakeGraph = {
    url: '',
    caPem: certificate.certPem,
    requests: [],
    penaltyViolations: [],
    budgetViolations: [],
    missingImmutableIds: [],
    sent: [],
    tokenLifetimeS: 3599,
    addApp(app) {
      apps.push(app);
    },
    addMailbox(upn) {
      const folders = new Map<string, FakeFolder>();
      const root: FakeFolder = { id: immutableId(), displayName: 'Top of Information Store', parentId: null, wellKnown: 'msgfolderroot' };
      folders.set(root.id, root);
      const names: Record<string, string> = {
        inbox: 'Inbox',
        archive: 'Archive',
        deleteditems: 'Deleted Items',
        sentitems: 'Sent Items',
        drafts: 'Drafts',
        junkemail: 'Junk Email',
      };
      for (const wellKnown of WELL_KNOWN.slice(1)) {
        const folder: FakeFolder = { id: immutableId(), displayName: names[wellKnown]!, parentId: root.id, wellKnown };
        folders.set(folder.id, folder);
      }
      const limits = new MailboxLimits();
      limits.throttling = throttling;
      limits.budget = budget;
      mailboxes.set(upn.toLowerCase(), { upn, folders, messages: new Map(), limits });
    },
    addFolder(upn, displayName, parent = 'msgfolderroot') {
      const mailbox = mailboxOf(upn);
      const parentFolder = folderByRef(mailbox, parent);
      if (!parentFolder) throw new Error(`no folder ${parent}`);
      const folder: FakeFolder = { id: immutableId(), displayName, parentId: parentFolder.id };
      mailbox.folders.set(folder.id, folder);
      return folder.id;
    },
    folderId(upn, ref) {
      const folder = folderByRef(mailboxOf(upn), ref);
      if (!folder) throw new Error(`no folder ${ref}`);
      return folder.id;
    },
    deliver(upn, raw, folder = 'inbox') {
      const mailbox = mailboxOf(upn);
      const id = immutableId();
      const received = new Date(Date.UTC(2025, 6, 1, 10, 0, mailbox.messages.size)).toISOString().replace('.000', '');
      mailbox.messages.set(id, {
        id,
        folderId: fake.folderId(upn, folder),
        raw,
        isRead: false,
        internetMessageId: `<${randomUUID()}@fake>`,
        receivedDateTime: received,
      });
      return id;
    },
    messages(upn, folder) {
      const mailbox = mailboxOf(upn);
      const folderId = folder === undefined ? undefined : fake.folderId(upn, folder);
      return [...mailbox.messages.values()].filter((message) => folderId === undefined || message.folderId === folderId);
    },
    move(upn, id, folder) {
      const message = mailboxOf(upn).messages.get(id);
      if (!message) throw new Error(`no message ${id}`);
      message.folderId = fake.folderId(upn, folder);
    },
    markUnread(upn, id) {
      const message = mailboxOf(upn).messages.get(id);
      if (!message) throw new Error(`no message ${id}`);
      message.isRead = false;
    },
    maxInFlight(upn) {
      return mailboxOf(upn).limits.stats.maxInFlight;
    },
    stats(upn) {
      return { ...mailboxOf(upn).limits.stats };
    },
    throttleLikeExchange(options, upn) {
      if (!upn) throttling = options;
      each(upn, (mailbox) => (mailbox.limits.throttling = options));
    },
    setBudget(value, upn) {
      if (!upn) budget = value;
      each(upn, (mailbox) => (mailbox.limits.budget = value));
    },
    busiestWindow(upn, windowMs) {
      return mailboxOf(upn).limits.busiestWindow(windowMs);
    },
    occupy(upn, requests) {
      const limits = mailboxOf(upn).limits;
      limits.inFlight += requests;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        limits.inFlight -= requests;
      };
    },
    inject(when, respond, times = 1) {
      faults.push({ when, respond, times });
    },
    expireTokens() {
      for (const token of tokens.values()) token.revoked = true;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };

  const takeFault = (seen: SeenRequest): FaultResponse | undefined => {
    const fault = faults.find((candidate) => candidate.times > 0 && candidate.when(seen));
    if (!fault) return undefined;
    fault.times -= 1;
    return fault.respond;
  };

  const token = async (req: IncomingMessage, res: ServerResponse, tenant: string): Promise<void> => {
    const form = new URLSearchParams((await readBody(req)).toString('utf8'));
    if (!apps.some((app) => app.tenantId === tenant)) {
      return aadError(
        res,
        400,
        'invalid_request',
        90002,
        `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
      );
    }
    if (form.get('grant_type') !== 'client_credentials')
      return aadError(res, 400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
    const clientId = form.get('client_id') ?? '';
    const app = apps.find((candidate) => candidate.tenantId === tenant && candidate.clientId === clientId);
    if (!app) {
      return aadError(
        res,
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`,
      );
    }
    const assertion = form.get('client_assertion');
    if (assertion !== null) {
      if (
        form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' ||
        !app.certificatePem ||
        !assertionIsValid(assertion, app, `${url}/${tenant}/oauth2/v2.0/token`)
      ) {
        return aadError(res, 401, 'invalid_client', 700027, 'Client assertion failed signature validation.');
      }
    } else if (form.get('client_secret') !== app.clientSecret) {
      return aadError(
        res,
        401,
        'invalid_client',
        7000215,
        'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app.',
      );
    }
    if (!(form.get('scope') ?? '').endsWith('/.default')) return aadError(res, 400, 'invalid_scope', 1002012, 'The provided value for scope is not valid.');
    const now = Math.floor(Date.now() / 1000);
    const accessToken = jwt({
      aud: url,
      iss: `${url}/${tenant}/`,
      tid: tenant,
      appid: clientId,
      roles: app.roles.length ? app.roles : undefined,
      iat: now,
      nbf: now,
      exp: now + fake.tokenLifetimeS,
    });
    tokens.set(accessToken, { app, expiresAt: Date.now() + fake.tokenLifetimeS * 1000, revoked: false });
    sendJson(res, 200, { token_type: 'Bearer', expires_in: fake.tokenLifetimeS, ext_expires_in: fake.tokenLifetimeS, access_token: accessToken });
  };

  /** The app behind a bearer token, or the 401 Graph answers. */
  const authorise = (authorization: string | undefined): FakeApp | Reply => {
    const bearer = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
    const issued = bearer ? tokens.get(bearer) : undefined;
    if (!issued || issued.revoked || issued.expiresAt <= Date.now())
      return errorReply(401, 'InvalidAuthenticationToken', 'Access token has expired or is not yet valid.');
    return issued.app;
  };

  /**
   * The connections that carried a Retry-After answer, with the mailbox and the penalty's end:
   * Node's client sends the next request on a keep-alive connection only after it has the whole
   * answer before it, so a request to that mailbox arriving there before the end is a violation
   * whatever the grace (the client had the 429 in hand and sent anyway).
   */
  const toldOn = new WeakMap<object, { mailbox: Mailbox; until: number }>();
  const told = (mailbox: Mailbox, socket: object | null): void => {
    const until = mailbox.limits.penaltyTold(Date.now());
    if (until && socket) toldOn.set(socket, { mailbox, until });
  };

  /** Books a request that reached a mailbox: counts it, watches the Prefer header and Retry-After windows. */
  const arrive = (mailbox: Mailbox, seen: SeenRequest, socket?: object): void => {
    const now = Date.now();
    mailbox.limits.count(now);
    const mark = socket ? toldOn.get(socket) : undefined;
    if (mailbox.limits.violates(now) || (mark?.mailbox === mailbox && now < mark.until)) fake.penaltyViolations.push(seen);
    if (seen.prefer !== IMMUTABLE) fake.missingImmutableIds.push(seen);
  };

  /** Limits, injected faults, then the resource itself; `told` runs once the client can read the answer. */
  const outlook = async (mailbox: Mailbox, request: OutlookRequest): Promise<Reply> => {
    const { seen } = request;
    const sending = request.rest[0] === 'sendMail';
    if (!request.app.roles.includes(sending ? 'Mail.Send' : 'Mail.ReadWrite'))
      return errorReply(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
    const now = Date.now();
    const verdict = mailbox.limits.judge(now);
    if (!verdict.ok) {
      if (verdict.penalty) mailbox.limits.startPenalty(now, Number(verdict.retryAfter));
      if (verdict.kind === 'budget') fake.budgetViolations.push(seen);
      return errorReply(verdict.status, verdict.code, verdict.message, { 'retry-after': verdict.retryAfter });
    }
    const fault = takeFault(seen);
    if (fault && 'status' in fault) {
      if (fault.retryAfter !== undefined) mailbox.limits.startPenalty(now, Number(fault.retryAfter));
      const headers: Record<string, string> = fault.retryAfter !== undefined ? { 'retry-after': fault.retryAfter } : {};
      return errorReply(fault.status, fault.code ?? 'ApplicationThrottled', fault.message ?? 'Application is over its RequestRate limit.', headers);
    }
    if (options.latencyMs) await sleep(options.latencyMs);
    const reply = await resource(mailbox, request);
    if (reply.value && fault && 'dropAfterBytes' in fault) reply.value.dropAfterBytes = fault.dropAfterBytes;
    return reply;
  };

  /** The properties Graph computes from a message's MIME, parsed once per message. */
  const parsedFields = new WeakMap<FakeMessage, Promise<MimeFields>>();
  const fieldsOf = (message: FakeMessage): Promise<MimeFields> => {
    let fields = parsedFields.get(message);
    if (!fields) parsedFields.set(message, (fields = mimeFields(message.raw)));
    return fields;
  };

  const listMessages = async (mailbox: Mailbox, folder: FakeFolder, folderRef: string, query: URLSearchParams): Promise<Reply> => {
    const filter = query.get('$filter');
    const orderBy = query.get('$orderby');
    const dated = filter ? DATED_UNREAD.exec(filter) : null;
    if (filter !== 'isRead eq false' && !dated)
      return errorReply(400, 'ErrorInvalidUrlQueryFilter', 'this fake only answers $filter=isRead eq false, optionally after receivedDateTime ge <time> and');
    if (orderBy !== null) {
      // Every $orderby property must come first in $filter, in the same order (user-list-messages).
      if (!/^receivedDateTime (asc|desc)$/.test(orderBy)) return errorReply(400, 'BadRequest', 'this fake orders by receivedDateTime only');
      if (!dated) return errorReply(400, 'InefficientFilter', 'The restriction or sort order is too complex for this operation.');
    }
    const top = Number(query.get('$top') ?? DEFAULT_TOP);
    if (!Number.isInteger(top) || top < 1 || top > MAX_TOP) return errorReply(400, 'ErrorInvalidUrlQuery', `$top must be between 1 and ${MAX_TOP}`);
    const size = Math.min(top, pageSize);
    const skip = Number(query.get('$skip') ?? 0);
    const ascending = orderBy === 'receivedDateTime asc';
    const since = dated ? dated[1]! : '';
    const unread = [...mailbox.messages.values()]
      .filter((m) => m.folderId === folder.id && !m.isRead && m.receivedDateTime >= since)
      // Newest first, as Graph lists messages by default.
      .sort((a, b) => (ascending ? a.receivedDateTime.localeCompare(b.receivedDateTime) : b.receivedDateTime.localeCompare(a.receivedDateTime)));
    if (query.has('$expand')) return errorReply(400, 'BadRequest', 'this fake does not expand anything on a listing; ask for fields with $select');
    const selected = (query.get('$select') ?? LISTED_FIELDS.join(',')).split(',').map((field) => field.trim());
    // Graph refuses a property the message type does not have.
    const unknown = selected.find((field) => !(MESSAGE_FIELDS as readonly string[]).includes(field));
    if (unknown !== undefined)
      return errorReply(400, 'RequestBroker--ParseUri', `Could not find a property named '${unknown}' on type 'microsoft.graph.message'.`);
    const parse = needsMime(selected);
    const view = async (m: FakeMessage): Promise<Record<string, unknown>> => {
      const all: Record<string, unknown> = {
        id: m.id,
        internetMessageId: m.internetMessageId,
        receivedDateTime: m.receivedDateTime,
        isRead: m.isRead,
        parentFolderId: m.folderId,
        ...(parse ? await fieldsOf(m) : {}),
      };
      // Graph answers what $select names, with id and @odata.etag always.
      return Object.fromEntries([['@odata.etag', `W/"${m.id.slice(-8)}"`], ['id', m.id], ...selected.map((field) => [field, all[field] ?? null])]);
    };
    const body: Record<string, unknown> = {
      '@odata.context': `${url}/v1.0/$metadata#users('${mailbox.upn}')/mailFolders('${folderRef}')/messages(${selected.join(',')})`,
      value: await Promise.all(unread.slice(skip, skip + size).map(view)),
    };
    if (query.get('$count') === 'true') body['@odata.count'] = unread.length;
    if (skip + size < unread.length) {
      const next = new URL(`${url}/v1.0/users/${encodeURIComponent(mailbox.upn)}/mailFolders/${encodeURIComponent(folderRef)}/messages`);
      for (const [key, value] of query) if (key !== '$skip') next.searchParams.set(key, value);
      next.searchParams.set('$top', String(size));
      next.searchParams.set('$skip', String(skip + size));
      body['@odata.nextLink'] = next.toString();
    }
    return { status: 200, json: body };
  };

  const resource = async (mailbox: Mailbox, request: OutlookRequest): Promise<Reply> => {
    const { rest, query, method } = request;
    if (rest[0] === 'mailFolders' && rest[1] !== undefined) {
      const folder = folderByRef(mailbox, rest[1]);
      if (!folder) return errorReply(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
      const view = (f: FakeFolder) => {
        const inside = [...mailbox.messages.values()].filter((m) => m.folderId === f.id);
        return {
          id: f.id,
          displayName: f.displayName,
          parentFolderId: f.parentId,
          totalItemCount: inside.length,
          unreadItemCount: inside.filter((m) => !m.isRead).length,
        };
      };
      if (rest.length === 2 && method === 'GET') return { status: 200, json: view(folder) };
      if (rest[2] === 'childFolders' && method === 'GET') {
        const filter = query.get('$filter');
        const wanted = filter ? /^displayName eq '((?:[^']|'')*)'$/.exec(filter)?.[1]?.replace(/''/g, "'") : undefined;
        if (filter && wanted === undefined) return errorReply(400, 'ErrorInvalidUrlQueryFilter', 'The query filter contains one or more invalid nodes.');
        const children = [...mailbox.folders.values()].filter(
          (f) => f.parentId === folder.id && (wanted === undefined || f.displayName.toLowerCase() === wanted.toLowerCase()),
        );
        return { status: 200, json: { value: children.map(view) } };
      }
      if (rest[2] === 'messages' && rest.length === 3 && method === 'GET') return listMessages(mailbox, folder, rest[1], query);
      if (rest[2] === 'messages' && rest[4] === '$value') return errorReply(405, 'ErrorInvalidRequest', 'The OData request is not supported.');
    }
    if (rest[0] === 'messages' && rest[1] !== undefined) {
      const message = mailbox.messages.get(rest[1]);
      if (!message) return errorReply(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
      if (rest[2] === '$value' && method === 'GET') return { status: 200, value: { raw: message.raw } };
      if (rest.length === 2 && method === 'PATCH') {
        const patch = JSON.parse((await request.body()).toString('utf8')) as { isRead?: boolean };
        if (typeof patch.isRead === 'boolean') message.isRead = patch.isRead;
        return { status: 200, json: { id: message.id, isRead: message.isRead } };
      }
      if (rest.length === 2 && method === 'DELETE') {
        mailbox.messages.delete(message.id);
        return { status: 204 };
      }
      if (rest[2] === 'move' && method === 'POST') {
        const { destinationId } = JSON.parse((await request.body()).toString('utf8')) as { destinationId?: string };
        const target = destinationId ? folderByRef(mailbox, destinationId) : undefined;
        if (!target) return errorReply(400, 'ErrorInvalidIdMalformed', 'Id is malformed.');
        message.folderId = target.id;
        return { status: 201, json: { id: message.id, parentFolderId: target.id } };
      }
    }
    if (rest[0] === 'sendMail' && method === 'POST') {
      const body = await request.body();
      if (request.contentType.startsWith('text/plain')) fake.sent.push({ mailbox: mailbox.upn, mime: Buffer.from(body.toString('ascii'), 'base64') });
      else fake.sent.push({ mailbox: mailbox.upn, json: JSON.parse(body.toString('utf8')) as unknown });
      return { status: 202 };
    }
    return errorReply(400, 'BadRequest', `this fake does not know ${method} ${request.seen.path}`);
  };

  /** Writes a reply to the socket; a $value streams at the client's pace and may be cut off. */
  const write = async (res: ServerResponse, reply: Reply): Promise<void> => {
    if (reply.json !== undefined) return sendJson(res, reply.status, reply.json, reply.headers);
    if (!reply.value) return void res.writeHead(reply.status, reply.headers).end();
    const { raw, dropAfterBytes } = reply.value;
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': raw.length });
    const limit = dropAfterBytes ?? raw.length;
    // Honour backpressure, as a real server's socket does: the client reads at its own pace.
    for (let offset = 0; offset < limit; offset += VALUE_CHUNK) {
      if (!res.write(raw.subarray(offset, Math.min(limit, offset + VALUE_CHUNK)))) await new Promise((resolve) => res.once('drain', resolve));
      if (res.destroyed) return;
    }
    if (limit < raw.length) {
      // Let the partial body reach the client, then cut the connection.
      setTimeout(() => res.socket?.destroy(), 20);
      return;
    }
    res.end();
  };

  /** POST /v1.0/$batch: up to 20 requests; without dependsOn, at most 4 run against the mailbox at once. */
  const batch = async (req: IncomingMessage, res: ServerResponse, envelope: SeenRequest): Promise<void> => {
    const app = authorise(req.headers.authorization);
    if (!('clientId' in app)) return write(res, app);
    let parsed: { requests?: Array<{ id?: string; method?: string; url?: string; headers?: Record<string, unknown>; body?: unknown; dependsOn?: string[] }> };
    try {
      parsed = JSON.parse((await readBody(req)).toString('utf8')) as typeof parsed;
    } catch {
      return write(res, errorReply(400, 'BadRequest', 'Invalid batch payload format.'));
    }
    const items = parsed.requests ?? [];
    envelope.items = items.length;
    if (items.length === 0 || items.length > BATCH_LIMIT)
      return write(res, errorReply(400, 'BadRequest', `Number of batch request steps exceeds the maximum value of ${BATCH_LIMIT}.`));
    if (
      new Set(items.map((item) => item.id)).size !== items.length ||
      items.some((item) => typeof item.id !== 'string' || typeof item.url !== 'string' || typeof item.method !== 'string')
    ) {
      return write(res, errorReply(400, 'BadRequest', 'Each batch request needs a unique id, a method and a url.'));
    }
    const touched = new Set<Mailbox>();
    const envelopeMailbox = mailboxes.get(
      /^\/?users\/([^/?]+)/.exec(items[0]!.url!)?.[1] ? decodeURIComponent(/^\/?users\/([^/?]+)/.exec(items[0]!.url!)![1]!).toLowerCase() : '',
    );
    if (envelopeMailbox) {
      envelopeMailbox.limits.stats.http += 1;
      envelopeMailbox.limits.stats.batches += 1;
      arrive(envelopeMailbox, envelope, req.socket);
      touched.add(envelopeMailbox);
    }
    const responses = new Map<string, { id: string; status: number; headers: Record<string, string>; body?: unknown }>();
    const runOne = async (item: (typeof items)[number]): Promise<void> => {
      const id = item.id!;
      const failedDependency = (item.dependsOn ?? []).some((dep) => (responses.get(dep)?.status ?? 200) >= 400);
      const inner = new URL(item.url!.replace(/^\/?/, `${url}/v1.0/`));
      const segments = inner.pathname
        .split('/')
        .filter(Boolean)
        .map((segment) => decodeURIComponent(segment));
      const prefer = headerOf(item.headers, 'prefer');
      const seen: SeenRequest = {
        kind: 'graph',
        method: item.method!,
        path: inner.pathname,
        query: inner.searchParams,
        at: Date.now(),
        inBatch: id,
        ...(prefer ? { prefer } : {}),
      };
      if (segments[1] === 'users' && segments[2]) seen.mailbox = segments[2];
      fake.requests.push(seen);
      if (failedDependency) {
        responses.set(id, { id, status: 424, headers: {}, body: { error: { code: 'FailedDependency', message: 'Dependent request failed.' } } });
        seen.status = 424;
        return;
      }
      const mailbox = seen.mailbox ? mailboxes.get(seen.mailbox.toLowerCase()) : undefined;
      let reply: Reply;
      if (!mailbox) {
        reply = errorReply(404, 'ErrorInvalidUser', `The requested user '${seen.mailbox ?? ''}' is invalid.`);
      } else {
        touched.add(mailbox);
        arrive(mailbox, seen);
        mailbox.limits.enter();
        try {
          const body = item.body === undefined ? Buffer.alloc(0) : Buffer.from(typeof item.body === 'string' ? item.body : JSON.stringify(item.body));
          reply = await outlook(mailbox, {
            seen,
            method: item.method!,
            rest: segments.slice(3),
            query: inner.searchParams,
            contentType: headerOf(item.headers, 'content-type') ?? 'application/json',
            body: async () => body,
            app,
          });
        } finally {
          mailbox.limits.leave();
        }
      }
      seen.status = reply.status;
      seen.bytes = replyBytes(reply);
      // Inside a batch a JSON body stays JSON; anything else would be base64 (OData JSON batch format).
      const body = reply.json ?? (reply.value ? reply.value.raw.toString('base64') : undefined);
      responses.set(id, {
        id,
        status: reply.status,
        headers: { ...(reply.headers ?? {}), ...(reply.json !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body } : {}),
      });
    };
    if (items.some((item) => item.dependsOn?.length)) {
      for (const item of items) await runOne(item);
    } else {
      // Graph hands Outlook at most 4 requests of an unordered batch at a time (throttling-limits).
      const queue = [...items];
      await Promise.all(
        Array.from({ length: Math.min(MAILBOX_CONCURRENCY, queue.length) }, async () => {
          for (let item = queue.shift(); item; item = queue.shift()) await runOne(item);
        }),
      );
    }
    envelope.status = 200;
    res.once('finish', () => {
      for (const mailbox of touched) told(mailbox, req.socket);
    });
    sendJson(res, 200, { responses: items.map((item) => responses.get(item.id!)!) });
  };

  const server = https.createServer({ key: certificate.keyPem, cert: certificate.certPem }, (req, res) => {
    const parsed = new URL(req.url ?? '/', 'https://fake');
    const segments = parsed.pathname
      .split('/')
      .filter(Boolean)
      .map((segment) => decodeURIComponent(segment));
    const seen: SeenRequest = { kind: 'graph', method: req.method ?? 'GET', path: parsed.pathname, query: parsed.searchParams, at: Date.now() };
    if (typeof req.headers.prefer === 'string') seen.prefer = req.headers.prefer;
    const fail = (error: unknown): void => {
      if (!res.headersSent) sendJson(res, 500, { error: { code: 'InternalServerError', message: String(error) } });
    };

    if (segments[1] === 'oauth2' && segments[3] === 'token' && req.method === 'POST') {
      seen.kind = 'token';
      fake.requests.push(seen);
      token(req, res, segments[0]!).catch(fail);
      return;
    }
    if (segments[0] === 'v1.0' && segments[1] === '$batch' && segments.length === 2 && req.method === 'POST') {
      fake.requests.push(seen);
      batch(req, res, seen).catch(fail);
      return;
    }
    if (segments[0] !== 'v1.0' || segments[1] !== 'users' || !segments[2]) {
      fake.requests.push(seen);
      return void write(res, errorReply(400, 'BadRequest', 'Resource not found for the segment.'));
    }
    seen.mailbox = segments[2];
    fake.requests.push(seen);
    const mailbox = mailboxes.get(segments[2].toLowerCase());
    const answer = async (): Promise<void> => {
      const app = authorise(req.headers.authorization);
      if (!('clientId' in app)) return write(res, app);
      if (!mailbox) return write(res, errorReply(404, 'ErrorInvalidUser', `The requested user '${seen.mailbox ?? ''}' is invalid.`));
      const reply = await outlook(mailbox, {
        seen,
        method: req.method ?? 'GET',
        rest: segments.slice(3),
        query: parsed.searchParams,
        contentType: req.headers['content-type'] ?? '',
        body: () => readBody(req),
        app,
      });
      seen.status = reply.status;
      seen.bytes = replyBytes(reply);
      res.once('finish', () => told(mailbox, req.socket));
      await write(res, reply);
    };
    if (mailbox) {
      mailbox.limits.stats.http += 1;
      arrive(mailbox, seen, req.socket);
      mailbox.limits.enter();
      res.once('close', () => mailbox.limits.leave());
    }
    answer().catch(fail);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.url = url;
  return fake;
}
