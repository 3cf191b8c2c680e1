/**
 * POP3 (and SMTP, IMAP atoms) send credentials and names as text lines: a CR or LF in a
 * password would end the PASS line and start a command of the attacker's choosing. The config
 * refuses CR, LF and NUL in every credential, host and mailbox/folder field, naming the field;
 * and the POP3 client refuses to send such a line even if one got past the config.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ConnectionInput, configSchema, destinationSchema } from '../../src/config/schema.ts';
import { makeEmail } from '../support/corpus.ts';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import { pop3Connection, runOnce, testConfig, type Workspace, workspace } from '../support/postroom.ts';

const INJECTED = 'right-password\r\nDELE 1\r\nQUIT';

const pop3 = (extra: Record<string, unknown>): ConnectionInput =>
  ({ name: 'inbox', hostType: 'pop3', host: 'pop.example.com', username: 'me', password: 'pw', destination: 'out', ...extra }) as ConnectionInput;
const graph = (extra: Record<string, unknown>): ConnectionInput =>
  ({
    name: 'inbox',
    hostType: 'graph',
    tenantId: 't',
    clientId: 'c',
    clientSecret: 's',
    mailbox: 'me@example.com',
    destination: 'out',
    ...extra,
  }) as ConnectionInput;

describe('line breaks in credentials', () => {
  it('the config refuses CR, LF or NUL in credential, host and folder fields, naming the field', () => {
    const cases: Array<[ConnectionInput, string]> = [
      [pop3({ password: INJECTED }), 'password'],
      [pop3({ password: 'a\nb' }), 'password'],
      [pop3({ username: 'me\r\nDELE 1' }), 'username'],
      [pop3({ host: 'pop.example.com\r\nX' }), 'host'],
      [pop3({ password: undefined, oauth2: { clientId: 'c', refreshToken: 'r\r\nx' } }), 'refreshToken'],
      [pop3({ password: undefined, oauth2: { clientId: 'c\0', accessToken: 'a' } }), 'clientId'],
      [pop3({ tls: { servername: 'x\ny' } }), 'servername'],
      [{ ...pop3({}), hostType: 'imap', folder: 'INBOX\r\nA1 DELETE INBOX' } as ConnectionInput, 'folder'],
      [{ ...pop3({}), hostType: 'imap', moveTo: 'Done\n' } as ConnectionInput, 'moveTo'],
      [graph({ mailbox: 'me@example.com\r\n' }), 'mailbox'],
      [graph({ clientSecret: 's\n' }), 'clientSecret'],
      [graph({ tenantId: 't\r' }), 'tenantId'],
    ];
    for (const [connection, field] of cases) {
      const parsed = configSchema.safeParse({ destinations: { out: { type: 'directory', path: '/tmp/out' } }, connections: [connection] });
      assert.equal(parsed.success, false, `${field} with a line break is refused`);
      const issue = parsed.error!.issues.find((i) => i.path.at(-1) === field);
      assert.ok(issue, `an issue names ${field}: ${JSON.stringify(parsed.error!.issues)}`);
      assert.match(issue.message, new RegExp(`${field}.*(CR|line break)`), issue.message);
      assert.ok(!issue.message.includes('DELE'), 'the value is not repeated');
    }
    for (const [smtp, field] of [
      [{ host: 'smtp.example.com\r\n', username: 'u', password: 'p' }, 'host'],
      [{ host: 'smtp.example.com', username: 'u\n', password: 'p' }, 'username'],
      [{ host: 'smtp.example.com', username: 'u', password: 'p\r\nRSET' }, 'password'],
    ] as const) {
      const parsed = destinationSchema.safeParse({ type: 'email', from: 'postroom@example.com', to: 'a@example.com', smtp });
      assert.equal(parsed.success, false, `smtp.${field}`);
      assert.ok(
        parsed.error!.issues.some((i) => i.path.at(-1) === field && i.message.includes(field)),
        JSON.stringify(parsed.error!.issues),
      );
    }
  });

  describe('against a real Dovecot', () => {
    let dovecot: Dovecot;
    const workspaces: Workspace[] = [];
    before(async () => {
      dovecot = await startDovecot();
    });
    after(async () => {
      await dovecot?.stop();
      for (const ws of workspaces) await ws.dispose();
    });

    it('a password with an injected "DELE 1" and "QUIT" that got past the config deletes nothing', async () => {
      const ws = await workspace();
      workspaces.push(ws);
      const user = await dovecot.addUser('injected', 'right-password');
      await dovecot.deliver(user.name, makeEmail({ subject: 'must stay', text: 'must stay\n' }).raw);
      const config = testConfig(ws, [pop3Connection(dovecot, user)]);
      // As if a stored or programmatic config skipped validation.
      (config.connections[0] as { password?: string }).password = INJECTED;

      const { polls } = await runOnce(config);
      const outcome = polls.get('inbox');
      assert.equal((await dovecot.listMessages(user.name)).length, 1, 'the email is still on the server');
      assert.equal(outcome?.status, 'failed', JSON.stringify(outcome));
    });
  });
});
