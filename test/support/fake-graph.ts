/**
 * A local stand-in for Microsoft Graph (mail) and the Microsoft identity platform's token
 * endpoint, over HTTPS with a certificate made by openssl at start, following the documented
 * shapes: client-credentials tokens with AADSTS errors, mailFolders and childFolders, unread
 * messages paged by `@odata.nextLink`, `$value`, PATCH isRead, DELETE, move, sendMail.
 *
 * It also watches the client: requests in flight per mailbox (a fifth gets Graph's 429
 * MailboxConcurrency), requests that arrive while a Retry-After penalty runs, and the Prefer
 * header. Faults are injected per request: 429 / 503 with or without Retry-After, or a
 * connection dropped in the middle of `$value`.
 */
import { X509Certificate, constants, createHash, randomBytes, randomUUID, verify } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { generateTestCertificate } from './fake-certificate.ts';

/** Graph's documented per-app, per-mailbox concurrency limit. */
const MAILBOX_CONCURRENCY = 4;
/** Chunk size of a streamed $value; small enough that a drop lands mid-body. */
const VALUE_CHUNK = 16 * 1024;
const WELL_KNOWN = ['msgfolderroot', 'inbox', 'archive', 'deleteditems', 'sentitems', 'drafts', 'junkemail'] as const;

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
}

export type FaultResponse =
  | { status: number; retryAfter?: string; code?: string; message?: string }
  | { dropAfterBytes: number };

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
  inFlight: number;
  maxInFlight: number;
  penaltyUntil: number;
}

export interface SentMail {
  mailbox: string;
  mime?: Buffer;
  json?: unknown;
}

export interface FakeGraph {
  /** https://127.0.0.1:port: both graphEndpoint and authorityHost. */
  url: string;
  caPem: string;
  requests: SeenRequest[];
  /** Requests that arrived while a Retry-After penalty was running for their mailbox. */
  penaltyViolations: SeenRequest[];
  sent: SentMail[];
  /** Seconds of validity of new tokens. */
  tokenLifetimeS: number;
  addApp(app: FakeApp): void;
  addMailbox(upn: string): void;
  addFolder(upn: string, displayName: string, parent?: string): string;
  folderId(upn: string, ref: string): string;
  deliver(upn: string, raw: Buffer, folder?: string): string;
  messages(upn: string, folder?: string): FakeMessage[];
  maxInFlight(upn: string): number;
  inject(when: (request: SeenRequest) => boolean, respond: FaultResponse, times?: number): void;
  /** Every issued token stops working (Graph answers 401). */
  expireTokens(): void;
  close(): Promise<void>;
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

function graphError(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error: { code, message, innerError: { date: new Date().toISOString(), 'request-id': randomUUID(), 'client-request-id': randomUUID() } } }, headers);
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
    signed = header['x5t#S256'] === expected && verify('sha256', data, { key: certificate.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, signature);
  } else if (header.alg === 'RS256') {
    const expected = createHash('sha1').update(certificate.raw).digest('base64url');
    signed = header.x5t === expected && verify('sha256', data, certificate.publicKey, signature);
  } else {
    return false;
  }
  const now = Date.now() / 1000;
  return signed && payload.aud === tokenUrl && payload.iss === app.clientId && payload.sub === app.clientId && typeof payload.exp === 'number' && payload.exp > now && typeof payload.jti === 'string';
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startFakeGraph(options: { pageSize?: number } = {}): Promise<FakeGraph> {
  const certificate = await generateTestCertificate();
  const pageSize = options.pageSize ?? 100;
  const apps: FakeApp[] = [];
  const tokens = new Map<string, IssuedToken>();
  const mailboxes = new Map<string, Mailbox>();
  const faults: Fault[] = [];
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

  const fake: FakeGraph = {
    url: '',
    caPem: certificate.certPem,
    requests: [],
    penaltyViolations: [],
    sent: [],
    tokenLifetimeS: 3599,
    addApp(app) {
      apps.push(app);
    },
    addMailbox(upn) {
      const folders = new Map<string, FakeFolder>();
      const root: FakeFolder = { id: immutableId(), displayName: 'Top of Information Store', parentId: null, wellKnown: 'msgfolderroot' };
      folders.set(root.id, root);
      const names: Record<string, string> = { inbox: 'Inbox', archive: 'Archive', deleteditems: 'Deleted Items', sentitems: 'Sent Items', drafts: 'Drafts', junkemail: 'Junk Email' };
      for (const wellKnown of WELL_KNOWN.slice(1)) {
        const folder: FakeFolder = { id: immutableId(), displayName: names[wellKnown]!, parentId: root.id, wellKnown };
        folders.set(folder.id, folder);
      }
      mailboxes.set(upn.toLowerCase(), { upn, folders, messages: new Map(), inFlight: 0, maxInFlight: 0, penaltyUntil: 0 });
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
      mailbox.messages.set(id, { id, folderId: fake.folderId(upn, folder), raw, isRead: false, internetMessageId: `<${randomUUID()}@fake>`, receivedDateTime: received });
      return id;
    },
    messages(upn, folder) {
      const mailbox = mailboxOf(upn);
      const folderId = folder === undefined ? undefined : fake.folderId(upn, folder);
      return [...mailbox.messages.values()].filter((message) => folderId === undefined || message.folderId === folderId);
    },
    maxInFlight(upn) {
      return mailboxOf(upn).maxInFlight;
    },
    inject(when, respond, times = 1) {
      faults.push({ when, respond, times });
    },
    expireTokens() {
      for (const token of tokens.values()) token.revoked = true;
    },
    close: () => new Promise((resolve) => {
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
      return aadError(res, 400, 'invalid_request', 90002, `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`);
    }
    if (form.get('grant_type') !== 'client_credentials') return aadError(res, 400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
    const clientId = form.get('client_id') ?? '';
    const app = apps.find((candidate) => candidate.tenantId === tenant && candidate.clientId === clientId);
    if (!app) {
      return aadError(res, 400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`);
    }
    const assertion = form.get('client_assertion');
    if (assertion !== null) {
      if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' || !app.certificatePem || !assertionIsValid(assertion, app, `${url}/${tenant}/oauth2/v2.0/token`)) {
        return aadError(res, 401, 'invalid_client', 700027, 'Client assertion failed signature validation.');
      }
    } else if (form.get('client_secret') !== app.clientSecret) {
      return aadError(res, 401, 'invalid_client', 7000215, 'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app.');
    }
    if (!(form.get('scope') ?? '').endsWith('/.default')) return aadError(res, 400, 'invalid_scope', 1002012, 'The provided value for scope is not valid.');
    const now = Math.floor(Date.now() / 1000);
    const accessToken = jwt({ aud: url, iss: `${url}/${tenant}/`, tid: tenant, appid: clientId, roles: app.roles.length ? app.roles : undefined, iat: now, nbf: now, exp: now + fake.tokenLifetimeS });
    tokens.set(accessToken, { app, expiresAt: Date.now() + fake.tokenLifetimeS * 1000, revoked: false });
    sendJson(res, 200, { token_type: 'Bearer', expires_in: fake.tokenLifetimeS, ext_expires_in: fake.tokenLifetimeS, access_token: accessToken });
  };

  const graph = async (req: IncomingMessage, res: ServerResponse, seen: SeenRequest, mailbox: Mailbox | undefined, rest: string[]): Promise<void> => {
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const issued = bearer ? tokens.get(bearer) : undefined;
    if (!issued || issued.revoked || issued.expiresAt <= Date.now()) {
      return graphError(res, 401, 'InvalidAuthenticationToken', 'Access token has expired or is not yet valid.');
    }
    if (!mailbox) return graphError(res, 404, 'ErrorInvalidUser', `The requested user '${seen.mailbox ?? ''}' is invalid.`);
    const sending = rest[0] === 'sendMail';
    if (!issued.app.roles.includes(sending ? 'Mail.Send' : 'Mail.ReadWrite')) return graphError(res, 403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');

    const fault = takeFault(seen);
    if (fault && 'status' in fault) {
      if (fault.retryAfter !== undefined) mailbox.penaltyUntil = Date.now() + Number(fault.retryAfter) * 1000;
      const headers: Record<string, string> = fault.retryAfter !== undefined ? { 'retry-after': fault.retryAfter } : {};
      return graphError(res, fault.status, fault.code ?? 'ApplicationThrottled', fault.message ?? 'Application is over its MailboxConcurrency limit.', headers);
    }

    const query = seen.query;
    if (rest[0] === 'mailFolders' && rest[1] !== undefined) {
      const folder = folderByRef(mailbox, rest[1]);
      if (!folder) return graphError(res, 404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
      const view = (f: FakeFolder) => {
        const inside = [...mailbox.messages.values()].filter((m) => m.folderId === f.id);
        return { id: f.id, displayName: f.displayName, parentFolderId: f.parentId, totalItemCount: inside.length, unreadItemCount: inside.filter((m) => !m.isRead).length };
      };
      if (rest.length === 2 && req.method === 'GET') return sendJson(res, 200, view(folder));
      if (rest[2] === 'childFolders' && req.method === 'GET') {
        const filter = query.get('$filter');
        const wanted = filter ? /^displayName eq '((?:[^']|'')*)'$/.exec(filter)?.[1]?.replace(/''/g, "'") : undefined;
        if (filter && wanted === undefined) return graphError(res, 400, 'ErrorInvalidUrlQueryFilter', 'The query filter contains one or more invalid nodes.');
        const children = [...mailbox.folders.values()].filter((f) => f.parentId === folder.id && (wanted === undefined || f.displayName.toLowerCase() === wanted.toLowerCase()));
        return sendJson(res, 200, { value: children.map(view) });
      }
      if (rest[2] === 'messages' && req.method === 'GET') {
        if (query.get('$filter') !== 'isRead eq false') return graphError(res, 400, 'ErrorInvalidUrlQueryFilter', 'this fake only answers $filter=isRead eq false');
        const top = Math.min(Number(query.get('$top') ?? 10), pageSize);
        const skip = Number(query.get('$skip') ?? 0);
        // Newest first, as Graph lists messages by default.
        const unread = [...mailbox.messages.values()].filter((m) => m.folderId === folder.id && !m.isRead).sort((a, b) => b.receivedDateTime.localeCompare(a.receivedDateTime));
        const page = unread.slice(skip, skip + top);
        const body: Record<string, unknown> = { '@odata.context': `${url}/v1.0/$metadata#users('${mailbox.upn}')/mailFolders('${rest[1]}')/messages(id,internetMessageId,receivedDateTime)`, value: page.map((m) => ({ '@odata.etag': `W/"${m.id.slice(-8)}"`, id: m.id, internetMessageId: m.internetMessageId, receivedDateTime: m.receivedDateTime })) };
        if (skip + top < unread.length) {
          const next = new URL(`${url}/v1.0/users/${encodeURIComponent(mailbox.upn)}/mailFolders/${encodeURIComponent(rest[1])}/messages`);
          for (const [key, value] of query) if (key !== '$skip') next.searchParams.set(key, value);
          next.searchParams.set('$top', String(top));
          next.searchParams.set('$skip', String(skip + top));
          body['@odata.nextLink'] = next.toString();
        }
        return sendJson(res, 200, body);
      }
    }
    if (rest[0] === 'messages' && rest[1] !== undefined) {
      const message = mailbox.messages.get(rest[1]);
      if (!message) return graphError(res, 404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
      if (rest[2] === '$value' && req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': message.raw.length });
        const limit = fault && 'dropAfterBytes' in fault ? fault.dropAfterBytes : message.raw.length;
        // Honour backpressure, as a real server's socket does: the client reads at its own pace.
        for (let offset = 0; offset < limit; offset += VALUE_CHUNK) {
          if (!res.write(message.raw.subarray(offset, Math.min(limit, offset + VALUE_CHUNK)))) await new Promise((resolve) => res.once('drain', resolve));
          if (res.destroyed) return;
        }
        if (limit < message.raw.length) {
          // Let the partial body reach the client, then cut the connection.
          setTimeout(() => res.socket?.destroy(), 20);
          return;
        }
        return void res.end();
      }
      if (rest.length === 2 && req.method === 'PATCH') {
        const patch = JSON.parse((await readBody(req)).toString('utf8')) as { isRead?: boolean };
        if (typeof patch.isRead === 'boolean') message.isRead = patch.isRead;
        return sendJson(res, 200, { id: message.id, isRead: message.isRead });
      }
      if (rest.length === 2 && req.method === 'DELETE') {
        mailbox.messages.delete(message.id);
        res.writeHead(204).end();
        return;
      }
      if (rest[2] === 'move' && req.method === 'POST') {
        const { destinationId } = JSON.parse((await readBody(req)).toString('utf8')) as { destinationId?: string };
        const target = destinationId ? folderByRef(mailbox, destinationId) : undefined;
        if (!target) return graphError(res, 400, 'ErrorInvalidIdMalformed', 'Id is malformed.');
        message.folderId = target.id;
        return sendJson(res, 201, { id: message.id, parentFolderId: target.id });
      }
    }
    if (sending && req.method === 'POST') {
      const body = await readBody(req);
      const type = req.headers['content-type'] ?? '';
      if (type.startsWith('text/plain')) fake.sent.push({ mailbox: mailbox.upn, mime: Buffer.from(body.toString('ascii'), 'base64') });
      else fake.sent.push({ mailbox: mailbox.upn, json: JSON.parse(body.toString('utf8')) as unknown });
      res.writeHead(202).end();
      return;
    }
    return graphError(res, 400, 'BadRequest', `this fake does not know ${req.method} ${seen.path}`);
  };

  const server = https.createServer({ key: certificate.keyPem, cert: certificate.certPem }, (req, res) => {
    const parsed = new URL(req.url ?? '/', 'https://fake');
    const segments = parsed.pathname.split('/').filter(Boolean).map((segment) => decodeURIComponent(segment));
    const seen: SeenRequest = { kind: 'graph', method: req.method ?? 'GET', path: parsed.pathname, query: parsed.searchParams, at: Date.now() };
    if (typeof req.headers.prefer === 'string') seen.prefer = req.headers.prefer;

    if (segments[1] === 'oauth2' && segments[3] === 'token' && req.method === 'POST') {
      seen.kind = 'token';
      fake.requests.push(seen);
      token(req, res, segments[0]!).catch((error: unknown) => graphError(res, 500, 'InternalServerError', String(error)));
      return;
    }
    if (segments[0] !== 'v1.0' || segments[1] !== 'users' || !segments[2]) {
      fake.requests.push(seen);
      return graphError(res, 400, 'BadRequest', 'Resource not found for the segment.');
    }
    seen.mailbox = segments[2];
    fake.requests.push(seen);
    const mailbox = mailboxes.get(segments[2].toLowerCase());
    if (mailbox) {
      if (Date.now() < mailbox.penaltyUntil) fake.penaltyViolations.push(seen);
      mailbox.inFlight += 1;
      mailbox.maxInFlight = Math.max(mailbox.maxInFlight, mailbox.inFlight);
      res.once('close', () => {
        mailbox.inFlight -= 1;
      });
      if (mailbox.inFlight > MAILBOX_CONCURRENCY) {
        return graphError(res, 429, 'ApplicationThrottled', 'Application is over its MailboxConcurrency limit.', { 'retry-after': '1' });
      }
    }
    graph(req, res, seen, mailbox, segments.slice(3)).catch((error: unknown) => graphError(res, 500, 'InternalServerError', String(error)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.url = url;
  return fake;
}
