/**
 * Saving the connection dialog is a PUT, which replaces the connection: the settings the dialog
 * has no fields for (moveTo, idle, oauth2, timeouts, sizes, routes, Graph's request budget)
 * must come back as they were loaded, or a save would quietly drop them. Runs the API's view
 * (src/api/connection-view.ts) and the dialog's kept settings (src/api/ui/client/kept-settings.ts)
 * against the config's own schema, and the secrets through the API's own merge.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keepStoredSecrets, validateConnection } from '../../src/api/connection-input.ts';
import { toConnectionView } from '../../src/api/connection-view.ts';
import { keptSettings } from '../../src/api/ui/client/kept-settings.ts';

const DESTINATIONS = ['out', 'pdfs'];

/** What the dialog's own fields send back for this connection, unchanged. */
function ownFields(input: Record<string, unknown>): Record<string, unknown> {
  const own = ['name', 'hostType', 'host', 'port', 'useSsl', 'username', 'folder', 'destination', 'pollingInterval', 'tenantId', 'clientId', 'mailbox'];
  return Object.fromEntries(own.filter((key) => input[key] !== undefined).map((key) => [key, input[key]]));
}

for (const [what, input] of [
  [
    'IMAP with moveTo, IDLE settings, timeouts, a size limit and routes',
    {
      name: 'orders',
      hostType: 'imap',
      host: 'imap.example.com',
      username: 'orders',
      password: 'pw-orders',
      folder: 'INBOX',
      destination: 'out',
      moveTo: 'Processed',
      idle: false,
      idleRestart: '7m',
      connectTimeout: '45s',
      maxEmailBytes: 50_000_000,
      attachments: ['*', '!image/*'],
      routes: [{ when: { kind: 'attachment', contentType: 'application/pdf' }, destination: 'pdfs' }],
    },
  ],
  [
    'IMAP with OAuth2',
    {
      name: 'gmail',
      hostType: 'imap',
      host: 'imap.gmail.com',
      username: 'me@example.com',
      destination: 'out',
      oauth2: { tokenUrl: 'https://oauth2.example.com/token', clientId: 'app', clientSecret: 'shh', refreshToken: 'r-token' },
    },
  ],
  [
    'Graph with a request budget and moveTo',
    {
      name: 'm365',
      hostType: 'graph',
      tenantId: 'contoso.onmicrosoft.com',
      clientId: '00000000-0000-0000-0000-000000000001',
      clientSecret: 'graph-secret',
      mailbox: 'invoices@contoso.example',
      destination: 'out',
      moveTo: 'Archive',
      requestBudget: { requests: 5000, window: '5m' },
    },
  ],
] as const) {
  test(`a save from the dialog keeps what it has no fields for: ${what}`, () => {
    const stored = validateConnection(input, DESTINATIONS);
    const view = toConnectionView({ name: input.name, source: 'api', enabled: true, config: stored.config, input: stored.input }) as Record<string, unknown>;
    assert.ok(!JSON.stringify(view).match(/shh|r-token|graph-secret|pw-orders/), 'the view holds no secret');
    const body = { ...keptSettings(view), ...ownFields(input) };
    const saved = validateConnection(keepStoredSecrets(body, stored.input), DESTINATIONS);
    assert.deepEqual(saved.config, stored.config);
  });
}
