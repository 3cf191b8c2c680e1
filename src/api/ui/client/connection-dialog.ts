/**
 * Add or edit a connection: the seed's fields (Username, Password, Host, Host Type, Port, Send
 * Attachments, Send Message Body, Delete Messages, Use SSL, Polling Interval, Use Process Lock)
 * plus folder, destination, throttle pattern and the filter, with the seed's hints. "Test
 * connection" runs the server's check and shows its exact steps; "Preview" shows what the next
 * poll would take and leave with the settings as they stand; the API's field errors appear next
 * to the field.
 */

import { h } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { PreviewRow } from '../../../engine/preview-connection.ts';
import type { CheckResult, ConnectionView } from '../../schemas.ts';
import { ApiError, api } from './api.ts';
import {
  bodyFromForm,
  connectionSchema,
  constraintsFor,
  defaultPort,
  emptyForm,
  type FieldConstraints,
  type FieldName,
  type FormState,
  fieldOfIssue,
  formFromView,
} from './connection-form.ts';
import { FilterFields } from './filter-fields.ts';
import { Check, Field } from './form-fields.ts';
import { Modal } from './modal.ts';
import { PreviewRows } from './preview-rows.ts';

type Errors = Partial<Record<FieldName, string>>;

export function ConnectionDialog(props: { existing: ConnectionView | null; destinations: string[]; onClose: () => void; onSaved: () => void }) {
  const readOnly = props.existing?.readOnly === true;
  const [form, setForm] = useState<FormState>(
    props.existing ? formFromView(props.existing) : emptyForm(props.destinations.length === 1 ? props.destinations[0]! : ''),
  );
  const [errors, setErrors] = useState<Errors>({});
  const [general, setGeneral] = useState<string | null>(null);
  const [check, setCheck] = useState<CheckResult | null>(null);
  const [preview, setPreview] = useState<PreviewRow[] | null>(null);
  const [busy, setBusy] = useState<'save' | 'check' | 'preview' | null>(null);
  const [schema, setSchema] = useState<Awaited<ReturnType<typeof connectionSchema>>>(null);
  useEffect(() => {
    void connectionSchema().then(setSchema);
  }, []);
  const limits = useMemo(() => constraintsFor(schema, form.hostType), [schema, form.hostType]);

  const set = <K extends FieldName>(key: K, value: FormState[K]) => {
    setForm((old) => ({ ...old, [key]: value }));
    setErrors((old) => (old[key] ? { ...old, [key]: undefined } : old));
  };
  const text = (key: FieldName, extra: Record<string, unknown> = {}) => {
    const c: FieldConstraints = limits[key] ?? {};
    return h('input', {
      id: `f-${key}`,
      value: form[key] as string,
      required: c.required,
      minLength: c.minLength,
      maxLength: c.maxLength,
      min: c.min,
      max: c.max,
      placeholder: c.placeholder,
      'aria-invalid': errors[key] ? 'true' : undefined,
      'aria-describedby': [errors[key] ? `f-${key}-error` : '', `f-${key}-hint`].join(' ').trim(),
      onInput: (e: Event) => set(key, (e.target as HTMLInputElement).value as never),
      ...extra,
    });
  };

  const showErrors = (error: unknown, failed = '') => {
    if (error instanceof ApiError && error.issues.length) {
      const next: Errors = {};
      const unplaced: string[] = [];
      for (const issue of error.issues) {
        const field = fieldOfIssue(issue);
        if (field && !next[field]) next[field] = issue.message;
        else unplaced.push(`${issue.path || 'body'}: ${issue.message}`);
      }
      setErrors(next);
      setGeneral(`${failed}${unplaced.length ? unplaced.join('; ') : 'Some fields need attention.'}`);
      const first = Object.keys(next)[0];
      if (first) document.getElementById(`f-${first}`)?.focus();
    } else {
      setGeneral(`${failed}${error instanceof Error ? error.message : String(error)}`);
    }
  };

  const save = async (event: Event) => {
    event.preventDefault();
    if (readOnly) return;
    setBusy('save');
    setGeneral(null);
    try {
      const body = bodyFromForm(form);
      if (props.existing) await api.json('PUT', `/api/connections/${encodeURIComponent(props.existing.name)}`, body);
      else await api.json('POST', '/api/connections', body);
      props.onSaved();
    } catch (error) {
      showErrors(error);
    } finally {
      setBusy(null);
    }
  };

  /** The name the check and the preview are asked under; null (and a field error) without one. */
  const nameForServer = (): string | null => {
    const name = form.name.trim();
    if (!name) setErrors((old) => ({ ...old, name: 'give the connection a name first' }));
    return name || null;
  };

  const test = async () => {
    const name = nameForServer();
    if (!name) return;
    setBusy('check');
    setCheck(null);
    setGeneral(null);
    try {
      const path = `/api/connections/${encodeURIComponent(name)}/check`;
      setCheck(await api.json<CheckResult>('POST', path, readOnly ? undefined : bodyFromForm(form)));
    } catch (error) {
      showErrors(error);
    } finally {
      setBusy(null);
    }
  };

  /** The settings as they stand in the dialog (saved ones for a read-only connection); changes nothing on the server. */
  const runPreview = async () => {
    const name = nameForServer();
    if (!name) return;
    setBusy('preview');
    setPreview(null);
    setGeneral(null);
    try {
      const path = `/api/connections/${encodeURIComponent(name)}/preview`;
      setPreview(await api.json<PreviewRow[]>('POST', path, readOnly ? undefined : bodyFromForm(form)));
    } catch (error) {
      showErrors(error, 'Preview failed: ');
    } finally {
      setBusy(null);
    }
  };

  const mail = form.hostType !== 'graph';
  const pop3 = form.hostType === 'pop3';
  const portHint = form.hostType === 'imap' ? 'IMAP usually 993 over SSL (143 without).' : 'POP3 usually 995 over SSL (110 without).';

  return h(
    Modal,
    {
      title: props.existing ? (readOnly ? `Connection ${props.existing.name}` : `Edit ${props.existing.name}`) : 'Add connection',
      onClose: props.onClose,
      wide: true,
    },
    h(
      'form',
      { class: 'connection-form', onSubmit: save, noValidate: false },
      readOnly ? h('p', { class: 'note' }, 'Defined in postroom.yaml: it can be tested here, and changed only in the file.') : null,
      h(
        'fieldset',
        { disabled: readOnly },
        h('legend', {}, 'Account'),
        h(
          'div',
          { class: 'grid' },
          h(
            Field,
            { id: 'name', label: 'Name', error: errors.name, hint: 'Letters, digits, dot, dash, underscore.' },
            text('name', { disabled: Boolean(props.existing), autocomplete: 'off' }),
          ),
          h(
            Field,
            { id: 'hostType', label: 'Host Type', error: errors.hostType },
            h(
              'select',
              {
                id: 'f-hostType',
                value: form.hostType,
                onChange: (e: Event) => set('hostType', (e.target as HTMLSelectElement).value as FormState['hostType']),
              },
              h('option', { value: 'imap' }, 'IMAP'),
              h('option', { value: 'pop3' }, 'POP3'),
              h('option', { value: 'graph' }, 'Microsoft 365 (Graph)'),
            ),
          ),
          mail ? h(Field, { id: 'host', label: 'Host', error: errors.host, hint: 'e.g. imap.example.com' }, text('host', { autocomplete: 'off' })) : null,
          mail
            ? h(
                Field,
                { id: 'port', label: 'Port', error: errors.port, hint: `${portHint} Empty: ${defaultPort(form.hostType, form.useSsl)}.` },
                text('port', { inputMode: 'numeric', placeholder: String(defaultPort(form.hostType, form.useSsl)) }),
              )
            : null,
          mail
            ? h(Check, {
                id: 'useSsl',
                label: 'Use SSL',
                checked: form.useSsl,
                error: errors.useSsl,
                hint: 'Implicit TLS from the first byte (recommended).',
                onChange: (v) => set('useSsl', v),
              })
            : null,
          mail && !form.useSsl
            ? h(Check, {
                id: 'startTls',
                label: 'Use STARTTLS',
                checked: form.startTls,
                error: errors.startTls,
                hint: 'Upgrade the plain connection; without it the password travels unencrypted.',
                onChange: (v) => set('startTls', v),
              })
            : null,
          mail ? h(Field, { id: 'username', label: 'Username', error: errors.username }, text('username', { autocomplete: 'off' })) : null,
          mail
            ? h(
                Field,
                {
                  id: 'password',
                  label: 'Password',
                  error: errors.password,
                  hint: form.passwordSet ? 'A password is stored. Leave empty to keep it.' : 'Stored write-only: never shown again.',
                },
                text('password', {
                  type: 'password',
                  autocomplete: 'new-password',
                  required: !form.passwordSet && !props.existing,
                  placeholder: form.passwordSet ? '••••••• (stored)' : '',
                }),
              )
            : null,
          !mail ? h(Field, { id: 'tenantId', label: 'Tenant ID', error: errors.tenantId }, text('tenantId')) : null,
          !mail ? h(Field, { id: 'clientId', label: 'Client ID', error: errors.clientId }, text('clientId')) : null,
          !mail
            ? h(
                Field,
                {
                  id: 'clientSecret',
                  label: 'Client secret',
                  error: errors.clientSecret,
                  hint: form.clientSecretSet ? 'A secret is stored. Leave empty to keep it.' : 'Stored write-only.',
                },
                text('clientSecret', { type: 'password', autocomplete: 'new-password' }),
              )
            : null,
          !mail ? h(Field, { id: 'mailbox', label: 'Mailbox', error: errors.mailbox, hint: 'e.g. invoices@contoso.com' }, text('mailbox')) : null,
          !pop3
            ? h(
                Field,
                { id: 'folder', label: 'Folder', error: errors.folder, hint: form.hostType === 'imap' ? 'Default INBOX.' : 'Default inbox.' },
                text('folder', { placeholder: form.hostType === 'imap' ? 'INBOX' : 'inbox' }),
              )
            : null,
        ),
      ),
      h(
        'fieldset',
        { disabled: readOnly },
        h('legend', {}, 'Pickup'),
        h(
          'div',
          { class: 'grid' },
          h(Check, {
            id: 'sendAttachments',
            label: 'Send Attachments',
            checked: form.sendAttachments,
            error: errors.sendAttachments,
            hint: 'Each attachment becomes its own pipeline message.',
            onChange: (v) => set('sendAttachments', v),
          }),
          h(Check, {
            id: 'sendMessageBody',
            label: 'Send Message Body',
            checked: form.sendMessageBody,
            error: errors.sendMessageBody,
            hint: 'The text body becomes one pipeline message.',
            onChange: (v) => set('sendMessageBody', v),
          }),
          h(Check, {
            id: 'deleteMessages',
            label: 'Delete Messages',
            checked: pop3 ? true : form.deleteMessages,
            disabled: pop3,
            error: errors.deleteMessages,
            hint: pop3
              ? 'POP3 always deletes emails after pickup: the protocol has no read flag.'
              : 'Off: emails are marked read (\\Seen) once safely in the outbox.',
            onChange: (v) => set('deleteMessages', v),
          }),
          h(Check, {
            id: 'useProcessLock',
            label: 'Use Process Lock',
            checked: form.useProcessLock,
            error: errors.useProcessLock,
            hint: 'Hold the lease until a run finishes, so no new run starts before it does.',
            onChange: (v) => set('useProcessLock', v),
          }),
          h(
            Field,
            {
              id: 'pollingInterval',
              label: 'Polling Interval',
              error: errors.pollingInterval,
              hint: 'e.g. 30s, 5m, 1h. After a failed poll: the retry interval.',
            },
            text('pollingInterval'),
          ),
          h(
            Field,
            { id: 'destination', label: 'Destination', error: errors.destination, hint: 'Defined under destinations: in postroom.yaml.' },
            h(
              'select',
              {
                id: 'f-destination',
                value: form.destination,
                required: true,
                onChange: (e: Event) => set('destination', (e.target as HTMLSelectElement).value),
              },
              props.destinations.length === 1 ? null : h('option', { value: '' }, 'Choose…'),
              props.destinations.map((name) => h('option', { key: name, value: name }, name)),
            ),
          ),
          h(
            Field,
            {
              id: 'throttlePattern',
              label: 'Throttle pattern',
              error: errors.throttlePattern,
              hint: 'Regex for server replies that mean throttling; | separates alternatives. Adds to the built-in ones.',
              wide: true,
            },
            text('throttlePattern', { placeholder: 'e.g. too many connections|try again later' }),
          ),
          h(Check, {
            id: 'enabled',
            label: 'Enabled',
            checked: form.enabled,
            error: errors.enabled,
            hint: 'Disabled connections are not polled.',
            onChange: (v) => set('enabled', v),
          }),
        ),
      ),
      h(FilterFields, { form, hostType: form.hostType, errors, disabled: readOnly, set: (key, value) => set(key, value as never) }),
      mail
        ? h(
            'details',
            { class: 'advanced', open: Boolean(form.tlsCa) || !form.tlsVerify || Boolean(errors.tlsCa || errors.tlsVerify) },
            h('summary', {}, 'TLS certificate'),
            h(
              'fieldset',
              { disabled: readOnly },
              h(
                'div',
                { class: 'grid' },
                h(Check, {
                  id: 'tlsVerify',
                  label: 'Verify the server certificate',
                  checked: form.tlsVerify,
                  error: errors.tlsVerify,
                  hint: 'Turn off only for a server you trust on a network you trust.',
                  onChange: (v) => set('tlsVerify', v),
                }),
                h(
                  Field,
                  {
                    id: 'tlsCa',
                    label: 'Extra CA certificate (PEM)',
                    error: errors.tlsCa,
                    hint: 'For a server with a private CA: paste the PEM, or give a path on the server.',
                    wide: true,
                  },
                  h('textarea', {
                    id: 'f-tlsCa',
                    rows: 3,
                    value: form.tlsCa,
                    spellcheck: false,
                    onInput: (e: Event) => set('tlsCa', (e.target as HTMLTextAreaElement).value),
                  }),
                ),
              ),
            ),
          )
        : null,
      general ? h('p', { class: 'error', role: 'alert' }, general) : null,
      check
        ? h(
            'section',
            { class: `check-result ${check.ok ? 'ok' : 'failed'}`, 'aria-live': 'polite', 'aria-label': 'Connection test result' },
            h('h3', {}, check.ok ? 'Connection test: OK' : 'Connection test: FAILED'),
            h(
              'ol',
              {},
              check.steps.map((step, index) =>
                h(
                  'li',
                  { key: index, class: step.ok ? 'ok' : 'failed' },
                  h('span', { class: 'step-mark', 'aria-hidden': 'true' }, step.ok ? '✓' : '✗'),
                  h('strong', {}, step.step),
                  ' ',
                  h('span', { class: 'sr-only' }, step.ok ? 'passed: ' : 'failed: '),
                  step.detail,
                ),
              ),
            ),
          )
        : busy === 'check'
          ? h('p', { class: 'muted', 'aria-live': 'polite' }, 'Testing the connection…')
          : null,
      preview
        ? h(PreviewRows, { rows: preview })
        : busy === 'preview'
          ? h('p', { class: 'muted', 'aria-live': 'polite' }, 'Reading the mailbox for a preview…')
          : null,
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', onClick: test, disabled: busy !== null }, busy === 'check' ? 'Testing…' : 'Test connection'),
        h(
          'button',
          { type: 'button', onClick: runPreview, disabled: busy !== null, title: 'What the next poll would take and leave, and why; changes nothing' },
          busy === 'preview' ? 'Previewing…' : 'Preview',
        ),
        h('span', { class: 'spacer' }),
        h('button', { type: 'button', onClick: props.onClose }, readOnly ? 'Close' : 'Cancel'),
        readOnly ? null : h('button', { type: 'submit', class: 'primary', disabled: busy !== null }, busy === 'save' ? 'Saving…' : 'Save'),
      ),
    ),
  );
}
