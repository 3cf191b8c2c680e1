/**
 * The error catalogue: every error Postroom raises on purpose is declared here once,
 * with a stable code, whether a later attempt may succeed (`retryable`), and whether
 * it means the provider is throttling us (`throttling`). Retry and throttle policy
 * read these fields; nothing else decides by parsing messages.
 */

import type { ThrottleSignal } from './throttle-signal.ts';

export interface ErrorSpec {
  readonly message: string;
  readonly retryable: boolean;
  readonly throttling: boolean;
  /** HTTP status when the error reaches the REST API. */
  readonly status: number;
}

function spec(message: string, retryable: boolean, status = 500, throttling = false): ErrorSpec {
  return Object.freeze({ message, retryable, throttling, status });
}

export const ERRORS = Object.freeze({
  // Configuration and input
  CONFIG_INVALID: spec('The configuration is invalid', false, 400),
  CONFIG_NOT_FOUND: spec('No configuration file was found', false, 400),
  CONFIG_ENV_MISSING: spec('The configuration refers to an environment variable that is not set', false, 400),
  CONNECTION_NOT_FOUND: spec('No connection has that name', false, 404),
  DESTINATION_NOT_FOUND: spec('No destination has that name', false, 404),
  DEAD_LETTER_NOT_FOUND: spec('No dead letter has that id', false, 404),
  EMAIL_NOT_FOUND: spec('No email has that id', false, 404),
  PIPELINE_MESSAGE_NOT_FOUND: spec('No pipeline message has that id (delivered ones are forgotten after outbox.keepDelivered)', false, 404),
  CONTENT_GONE: spec(
    "The delivered pipeline message's content is no longer kept, so it cannot be sent again; set outbox.keepDeliveredContent (for example 1d) to keep delivered content for replays",
    false,
    409,
  ),
  UNAUTHORIZED: spec('A valid bearer token is required', false, 401),
  CONNECTION_EXISTS: spec('A connection with that name already exists', false, 409),
  CONNECTION_PAUSED: spec('The connection is paused; resume it first (postroom resume <name>, or Resume in the web UI)', false, 409),
  CONNECTION_DISABLED: spec('The connection is disabled (enabled: false); enable it first', false, 409),
  CONNECTION_READ_ONLY: spec('The connection comes from the config file and can only be changed there', false, 409),
  /** A reload asked of a process that was given its configuration rather than a file (tests, embedders). */
  RELOAD_UNAVAILABLE: spec('This process was not started from a config file, so there is no file to reload', false, 409),
  TOO_MANY_ATTEMPTS: spec('Too many failed logins from this address; wait and try again', true, 429),
  /** Host, Origin or a simple (form-like) mutation that a page on another site could have sent. */
  REQUEST_REFUSED: spec('The request was refused because another site could have sent it', false, 403),
  SECRET_KEY_MISSING: spec('No key is set to encrypt secrets at rest, so the API does not store them', false, 400),
  SECRET_KEY_UNKNOWN: spec('A stored secret was encrypted with a key that is not set', false, 500),

  // Reaching a mail server
  DNS_FAILED: spec('The host name could not be resolved', true, 502),
  CONNECTION_REFUSED: spec('The server refused the connection', true, 502),
  CONNECTION_TIMEOUT: spec('The server did not answer in time', true, 504),
  CONNECTION_LOST: spec('The connection to the server was lost', true, 502),
  TLS_FAILED: spec('The TLS handshake failed', false, 502),
  TLS_CERTIFICATE: spec('The server certificate is not trusted', false, 502),
  AUTH_FAILED: spec('The server refused the login', false, 401),
  /** OAuth2: the token endpoint refused the credentials for good (invalid_grant, consent withdrawn, secret expired): the connection needs re-authorisation. */
  AUTH_REVOKED: spec('The credentials were refused for good and must be renewed (needs re-authorisation)', false, 401),
  MAILBOX_NOT_FOUND: spec('The mailbox does not exist or the app may not open it', false, 404),
  FOLDER_NOT_FOUND: spec('The folder does not exist on the server', false, 404),
  PROTOCOL_ERROR: spec('The server answered something unexpected', true, 502),
  CAPABILITY_MISSING: spec('The server lacks a capability Postroom needs', false, 502),

  // Throttling (docs/throttling.md)
  THROTTLED: spec('The provider is throttling this account', true, 503, true),

  // Emails and pipeline messages
  FETCH_FAILED: spec('The email could not be fetched from the server', true, 502),
  /** The server answered NO/BAD to marking, moving or deleting emails Postroom had delivered: they stay pending and are tried again. */
  ACK_REFUSED: spec('The server refused to acknowledge emails already delivered', true, 502),
  EMAIL_TOO_LARGE: spec('The email exceeds a configured size limit', false, 413),
  DELIVERY_FAILED: spec('The destination did not accept the pipeline message', true, 502),
  DELIVERY_REJECTED: spec('The destination rejected the pipeline message for good', false, 502),

  // Leases and the store
  LEASE_LOST: spec('This worker no longer holds the lease for the connection', true, 409),
  STORE_FAILED: spec('The store could not be read or written', true, 500),
  /** ENOSPC, a quota, SQLITE_FULL, PostgreSQL's disk_full: retryable, the detail names the path, the hint says nothing was lost. */
  DISK_FULL: spec('A disk is full', true, 507),
} as const);

export type ErrorCode = keyof typeof ERRORS;

export interface PostroomErrorOptions {
  cause?: unknown;
  /** Overrides the catalogue's retryable flag for this instance. */
  retryable?: boolean;
  /** Milliseconds to wait before trying again (throttling, Retry-After). */
  retryAfterMs?: number;
  /** The server's own words, safe to show (never contains a secret). */
  serverResponse?: string;
  /** What the user should do about it. */
  hint?: string;
  /** The failure as the throttle classifier reads it (set by the source that saw it). */
  signal?: ThrottleSignal;
}

export class PostroomError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly throttling: boolean;
  readonly status: number;
  readonly retryAfterMs?: number;
  readonly serverResponse?: string;
  readonly hint?: string;
  readonly signal?: ThrottleSignal;

  constructor(code: ErrorCode, detail?: string, options: PostroomErrorOptions = {}) {
    const entry = ERRORS[code];
    super(detail ? `${entry.message}: ${detail}` : entry.message, { cause: options.cause });
    this.name = 'PostroomError';
    this.code = code;
    this.retryable = options.retryable ?? entry.retryable;
    this.throttling = entry.throttling;
    this.status = entry.status;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
    if (options.serverResponse !== undefined) this.serverResponse = options.serverResponse;
    if (options.hint !== undefined) this.hint = options.hint;
    if (options.signal !== undefined) this.signal = options.signal;
  }

  /** A one-line explanation for people: the message and, when known, what to do. */
  explain(): string {
    return this.hint ? `${this.message}. ${this.hint}` : this.message;
  }
}

export function isPostroomError(error: unknown, code?: ErrorCode): error is PostroomError {
  return error instanceof PostroomError && (code === undefined || error.code === code);
}

/** The message of anything thrown, for logs and stored "last error" fields. */
export function errorMessage(error: unknown): string {
  if (error instanceof PostroomError) return error.explain();
  if (error instanceof Error) return error.message;
  return String(error);
}
