/**
 * The settings of a connection the dialog has no fields for (IMAP `moveTo`, `idle`, `oauth2`,
 * `connectTimeout`, `maxEmailBytes`, `attachments`, `routes`, ...), taken from the API's view as
 * loaded and sent back unchanged, so saving the dialog (a PUT, which replaces the connection)
 * keeps them. The API shows durations as written ("5m"), so they read back the same.
 *
 * Left out: what the dialog's own fields send, what the view only describes (source, warnings),
 * and the `<secret>Set` flags that stand in for secrets (the API keeps a secret a save leaves out).
 */

/** The top-level settings the dialog's own fields set (and the API's field errors land on). */
export const FORM_SETTING_KEYS = [
  'name',
  'hostType',
  'host',
  'port',
  'useSsl',
  'startTls',
  'username',
  'password',
  'folder',
  'destination',
  'sendAttachments',
  'sendMessageBody',
  'deleteMessages',
  'pollingInterval',
  'useProcessLock',
  'throttlePattern',
  'tenantId',
  'clientId',
  'clientSecret',
  'mailbox',
  'enabled',
] as const;

/** View keys not sent back as kept: the form's own (tls, filter, filtered and filterOnServer too), and those that describe the connection rather than set it. */
const NOT_KEPT = new Set<string>([...FORM_SETTING_KEYS, 'tls', 'filter', 'filtered', 'filterOnServer', 'source', 'readOnly', 'problem', 'warnings']);

const isSecretFlag = (key: string): boolean => /^(?:password|clientSecret|refreshToken|accessToken|privateKey)Set$/.test(key);
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function withoutSecretFlags(value: unknown): unknown {
  if (!isObject(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([key]) => !isSecretFlag(key)));
}

export function keptSettings(view: Record<string, unknown>): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(view)) {
    if (NOT_KEPT.has(key) || isSecretFlag(key) || value === undefined) continue;
    kept[key] = withoutSecretFlags(value);
  }
  return kept;
}
