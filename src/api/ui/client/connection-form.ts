/**
 * The connection dialog's model: the form's fields, to and from the API's JSON, and the field
 * constraints read from the same schema the API validates with (its OpenAPI document, generated
 * from the config's zod schema). The API's field-level errors map back onto these fields.
 */
import type { ConnectionView } from '../../schemas.ts';
import type { FieldIssue } from '../../validation.ts';
import { api } from './api.ts';
import { emptyFilterForm, type FilterForm, filterBodyFromForm, filterFieldOfIssue, filterFormFromView } from './filter-form.ts';
import { FORM_SETTING_KEYS, keptSettings } from './kept-settings.ts';

export type HostType = 'imap' | 'pop3' | 'graph';

export interface FormState extends FilterForm {
  name: string;
  hostType: HostType;
  enabled: boolean;
  host: string;
  port: string;
  useSsl: boolean;
  startTls: boolean;
  username: string;
  password: string;
  passwordSet: boolean;
  folder: string;
  destination: string;
  sendAttachments: boolean;
  sendMessageBody: boolean;
  deleteMessages: boolean;
  pollingInterval: string;
  useProcessLock: boolean;
  throttlePattern: string;
  tlsVerify: boolean;
  tlsCa: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  clientSecretSet: boolean;
  mailbox: string;
  /** Settings the dialog has no fields for, as loaded, sent back so a save keeps them (kept-settings.ts). */
  kept: Record<string, unknown>;
  /** The host type they were loaded for: changing it drops them (another protocol has other settings). */
  keptFor: HostType | null;
}

export type FieldName = keyof FormState;

export function emptyForm(destination: string): FormState {
  return {
    name: '',
    hostType: 'imap',
    enabled: true,
    host: '',
    port: '',
    useSsl: true,
    startTls: false,
    username: '',
    password: '',
    passwordSet: false,
    folder: '',
    destination,
    sendAttachments: true,
    sendMessageBody: true,
    deleteMessages: false,
    pollingInterval: '60s',
    useProcessLock: false,
    throttlePattern: '',
    tlsVerify: true,
    tlsCa: '',
    tenantId: '',
    clientId: '',
    clientSecret: '',
    clientSecretSet: false,
    mailbox: '',
    ...emptyFilterForm(),
    kept: {},
    keptFor: null,
  };
}

const str = (value: unknown): string => (value === undefined || value === null ? '' : String(value));
const bool = (value: unknown, fallback: boolean): boolean => (typeof value === 'boolean' ? value : fallback);

export function formFromView(view: ConnectionView): FormState {
  const v = view as Record<string, unknown>;
  const tls = (v.tls ?? {}) as Record<string, unknown>;
  const hostType = (['imap', 'pop3', 'graph'].includes(String(v.hostType)) ? v.hostType : 'imap') as HostType;
  return {
    ...emptyForm(str(v.destination)),
    name: view.name,
    hostType,
    enabled: view.enabled,
    host: str(v.host),
    port: str(v.port),
    useSsl: bool(v.useSsl, true),
    startTls: bool(v.startTls, false),
    username: str(v.username),
    passwordSet: view.passwordSet === true,
    folder: str(v.folder),
    sendAttachments: bool(v.sendAttachments, true),
    sendMessageBody: bool(v.sendMessageBody, true),
    deleteMessages: bool(v.deleteMessages, false),
    pollingInterval: str(v.pollingInterval) || '60s',
    useProcessLock: bool(v.useProcessLock, false),
    throttlePattern: str(v.throttlePattern),
    tlsVerify: bool(tls.rejectUnauthorized, true),
    tlsCa: str(tls.ca),
    tenantId: str(v.tenantId),
    clientId: str(v.clientId),
    clientSecretSet: view.clientSecretSet === true,
    mailbox: str(v.mailbox),
    ...filterFormFromView(v.filter, v.filtered, v.filterOnServer),
    kept: keptSettings(v),
    keptFor: hostType,
  };
}

/** The JSON body for POST/PUT/check: only what this host type has; empty secrets are left out (kept). */
export function bodyFromForm(form: FormState): Record<string, unknown> {
  const body: Record<string, unknown> = {
    name: form.name.trim(),
    hostType: form.hostType,
    enabled: form.enabled,
    sendAttachments: form.sendAttachments,
    sendMessageBody: form.sendMessageBody,
    deleteMessages: form.hostType === 'pop3' ? true : form.deleteMessages,
    pollingInterval: form.pollingInterval.trim() || undefined,
    useProcessLock: form.useProcessLock,
    destination: form.destination || undefined,
    throttlePattern: form.throttlePattern.trim() || undefined,
    ...filterBodyFromForm(form),
    ...(form.keptFor === form.hostType ? form.kept : {}),
  };
  if (form.hostType === 'graph') {
    Object.assign(body, {
      tenantId: form.tenantId.trim(),
      clientId: form.clientId.trim(),
      mailbox: form.mailbox.trim(),
      folder: form.folder.trim() || undefined,
      clientSecret: form.clientSecret || undefined,
    });
  } else {
    const port = form.port.trim();
    Object.assign(body, {
      host: form.host.trim(),
      port: port === '' ? undefined : /^\d+$/.test(port) ? Number(port) : port,
      useSsl: form.useSsl,
      startTls: form.useSsl ? false : form.startTls,
      username: form.username.trim(),
      password: form.password || undefined,
      tls: { rejectUnauthorized: form.tlsVerify, ...(form.tlsCa.trim() ? { ca: form.tlsCa.trim() } : {}) },
    });
    if (form.hostType === 'imap') body.folder = form.folder.trim() || undefined;
  }
  for (const key of Object.keys(body)) if (body[key] === undefined) delete body[key];
  return body;
}

/** The server's default port, as the seed puts it: IMAP usually 993 over SSL. */
export function defaultPort(hostType: HostType, useSsl: boolean): number {
  if (hostType === 'imap') return useSsl ? 993 : 143;
  return useSsl ? 995 : 110;
}

/** API issue path → the form field showing it. */
export function fieldOfIssue(issue: FieldIssue): FieldName | null {
  if (issue.path === 'tls.ca') return 'tlsCa';
  if (issue.path.startsWith('tls')) return 'tlsVerify';
  const head = issue.path.split(/[.[]/)[0] ?? '';
  if (head === 'oauth2') return 'password';
  const filterField = filterFieldOfIssue(issue.path);
  if (filterField) return filterField;
  return (FORM_SETTING_KEYS as readonly string[]).includes(head) ? (head as FieldName) : null;
}

interface JsonSchema {
  type?: string | string[];
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  default?: unknown;
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  oneOf?: JsonSchema[];
}

export interface FieldConstraints {
  required?: boolean;
  minLength?: number;
  maxLength?: number;
  min?: number;
  max?: number;
  placeholder?: string;
}

let schemaPromise: Promise<JsonSchema | null> | undefined;

/** The connection input schema from /openapi.json (the zod schema, as JSON Schema). */
export function connectionSchema(): Promise<JsonSchema | null> {
  schemaPromise ??= api
    .get<{ components?: { schemas?: Record<string, JsonSchema> } }>('/openapi.json')
    .then((doc) => doc.components?.schemas?.ConnectionInput ?? null)
    .catch(() => null);
  return schemaPromise;
}

/** HTML constraint attributes for each top-level field of one host type. */
export function constraintsFor(schema: JsonSchema | null, hostType: HostType): Partial<Record<FieldName, FieldConstraints>> {
  const variant = schema?.oneOf?.find((v) => v.properties?.hostType?.const === hostType);
  if (!variant?.properties) return {};
  const out: Partial<Record<FieldName, FieldConstraints>> = {};
  for (const [key, field] of Object.entries(variant.properties)) {
    const c: FieldConstraints = {};
    if (variant.required?.includes(key)) c.required = true;
    if (field.minLength !== undefined) c.minLength = field.minLength;
    if (field.maxLength !== undefined) c.maxLength = field.maxLength;
    if (field.minimum !== undefined) c.min = field.minimum;
    if (field.maximum !== undefined) c.max = field.maximum;
    if (typeof field.default === 'string') c.placeholder = field.default;
    out[key as FieldName] = c;
  }
  return out;
}
