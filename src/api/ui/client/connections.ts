/** Connections: the list, and add / edit / test / enable / disable / delete. */
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { CheckResult, ConnectionView } from '../../schemas.ts';
import { ApiError, api } from './api.ts';
import { ConnectionDialog } from './connection-dialog.ts';
import { Modal } from './modal.ts';
import { useRefresh } from './use-refresh.ts';

/** The list changes only when someone edits it; a slow refresh picks up other users' edits. */
const REFRESH_MS = 10_000;

type Editing = { mode: 'add' } | { mode: 'edit'; connection: ConnectionView } | null;

function where(c: ConnectionView): string {
  const v = c as Record<string, unknown>;
  if (c.hostType === 'graph') return String(v.mailbox ?? '');
  return `${String(v.username ?? '')} @ ${String(v.host ?? '')}:${String(v.port ?? '')}`;
}

export function ConnectionsScreen() {
  const { data, error, reload } = useRefresh(() => api.get<ConnectionView[]>('/api/connections'), REFRESH_MS);
  const [destinations, setDestinations] = useState<string[]>([]);
  const [editing, setEditing] = useState<Editing>(null);
  const [checking, setChecking] = useState<{ name: string; result: CheckResult | null; error?: string } | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  useEffect(() => {
    api
      .get<Array<{ name: string }>>('/api/destinations')
      .then((list) => setDestinations(list.map((d) => d.name)))
      .catch(() => setDestinations([]));
  }, []);

  const act = async (label: string, run: () => Promise<unknown>) => {
    try {
      await run();
      setMessage(label);
      await reload();
    } catch (caught) {
      setMessage(caught instanceof ApiError ? caught.message : String(caught));
    }
  };

  const test = async (name: string) => {
    setChecking({ name, result: null });
    try {
      setChecking({ name, result: await api.json<CheckResult>('POST', `/api/connections/${encodeURIComponent(name)}/check`) });
    } catch (caught) {
      setChecking({ name, result: null, error: caught instanceof Error ? caught.message : String(caught) });
    }
  };

  return h(
    'section',
    { 'aria-labelledby': 'connections-title' },
    h(
      'div',
      { class: 'screen-head' },
      h('h1', { id: 'connections-title' }, 'Connections'),
      h('button', { type: 'button', class: 'primary', onClick: () => setEditing({ mode: 'add' }) }, 'Add connection'),
    ),
    message ? h('p', { class: 'flash', role: 'status' }, message) : null,
    error ? h('p', { class: 'error', role: 'alert' }, error) : null,
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'grid-table', 'aria-label': 'Connections' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Name', 'Type', 'Account', 'Destination', 'Interval', 'Source', 'Enabled', 'Actions'].map((label) => h('th', { key: label, scope: 'col' }, label)),
          ),
        ),
        h(
          'tbody',
          {},
          (data ?? []).map((c) =>
            h(
              'tr',
              { key: c.name },
              h('th', { scope: 'row' }, c.name, c.problem ? h('span', { class: 'sub error-text' }, c.problem) : null),
              h('td', {}, c.hostType.toUpperCase()),
              h('td', {}, where(c)),
              h('td', {}, String((c as Record<string, unknown>).destination ?? '')),
              h('td', {}, String((c as Record<string, unknown>).pollingInterval ?? '')),
              h(
                'td',
                {},
                c.source === 'config'
                  ? h('span', { class: 'badge muted-badge', title: 'Defined in postroom.yaml: read-only here' }, 'postroom.yaml')
                  : 'UI / API',
              ),
              h('td', {}, c.enabled ? 'Yes' : 'No'),
              h(
                'td',
                {},
                h(
                  'div',
                  { class: 'row-actions' },
                  h(
                    'button',
                    { type: 'button', onClick: () => setEditing({ mode: 'edit', connection: c }), 'aria-label': `${c.readOnly ? 'View' : 'Edit'} ${c.name}` },
                    c.readOnly ? 'View' : 'Edit',
                  ),
                  h('button', { type: 'button', onClick: () => void test(c.name), 'aria-label': `Test ${c.name}` }, 'Test'),
                  c.readOnly
                    ? null
                    : h(
                        'button',
                        {
                          type: 'button',
                          'aria-label': `${c.enabled ? 'Disable' : 'Enable'} ${c.name}`,
                          onClick: () =>
                            void act(`${c.name} ${c.enabled ? 'disabled' : 'enabled'}`, () =>
                              api.json('POST', `/api/connections/${encodeURIComponent(c.name)}/${c.enabled ? 'disable' : 'enable'}`),
                            ),
                        },
                        c.enabled ? 'Disable' : 'Enable',
                      ),
                  c.readOnly
                    ? null
                    : h(
                        'button',
                        {
                          type: 'button',
                          class: 'danger',
                          'aria-label': `Delete ${c.name}`,
                          onClick: () => {
                            if (confirm(`Delete connection "${c.name}"? What it already picked up is still delivered.`))
                              void act(`${c.name} deleted`, () => api.json('DELETE', `/api/connections/${encodeURIComponent(c.name)}`));
                          },
                        },
                        'Delete',
                      ),
                ),
              ),
            ),
          ),
        ),
      ),
      data && data.length === 0 ? h('p', { class: 'empty' }, 'No connections yet.') : null,
    ),
    editing
      ? h(ConnectionDialog, {
          existing: editing.mode === 'edit' ? editing.connection : null,
          destinations,
          onClose: () => setEditing(null),
          onSaved: () => {
            setMessage(editing.mode === 'add' ? 'Connection added: it is polled right away.' : 'Connection saved.');
            setEditing(null);
            void reload();
          },
        })
      : null,
    checking
      ? h(
          Modal,
          { title: `Test ${checking.name}`, onClose: () => setChecking(null) },
          checking.error
            ? h('p', { class: 'error', role: 'alert' }, checking.error)
            : checking.result
              ? h(
                  'section',
                  { class: `check-result ${checking.result.ok ? 'ok' : 'failed'}`, 'aria-live': 'polite' },
                  h('h3', {}, checking.result.ok ? 'Connection test: OK' : 'Connection test: FAILED'),
                  h(
                    'ol',
                    {},
                    checking.result.steps.map((step, index) =>
                      h(
                        'li',
                        { key: index, class: step.ok ? 'ok' : 'failed' },
                        h('span', { class: 'step-mark', 'aria-hidden': 'true' }, step.ok ? '✓' : '✗'),
                        h('strong', {}, step.step),
                        ' ',
                        step.detail,
                      ),
                    ),
                  ),
                )
              : h('p', { class: 'muted', 'aria-live': 'polite' }, 'Testing…'),
          h('div', { class: 'actions' }, h('span', { class: 'spacer' }), h('button', { type: 'button', onClick: () => setChecking(null) }, 'Close')),
        )
      : null,
  );
}
