import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { connectionSchema } from '../../src/config/schema.ts';
import { pop3Source } from '../../src/sources/pop3/pop3-source.ts';
import { makeEmail } from '../support/corpus.ts';
import { dovecotAndWorkspace } from '../support/dovecot-and-workspace.ts';
import { pop3Connection, quietLog, runOnce, testConfig } from '../support/postroom.ts';

const WRONG_PASSWORD = 'Wr0ng-PaSsWoRd-4711';

const { dovecot, ws } = await dovecotAndWorkspace();

describe('POP3 login with a wrong password', () => {
  it('fails the poll with AUTH_FAILED, says what to check, never shows the password, and leaves the mail', async () => {
    const user = await dovecot.addUser('wrongpw', 'the-right-one');
    await dovecot.deliver(user.name, makeEmail({ subject: 'kept', text: 'kept\n' }).raw);
    const config = testConfig(ws, [pop3Connection(dovecot, { name: user.name, password: WRONG_PASSWORD })]);

    const { polls } = await runOnce(config);
    const outcome = polls.get('inbox');
    assert.equal(outcome?.status, 'failed', JSON.stringify(outcome));
    assert.ok(outcome.status === 'failed');
    assert.equal(outcome.error.code, 'AUTH_FAILED');
    assert.equal(outcome.error.retryable, false);
    assert.match(outcome.error.explain(), /server refused the login: -ERR \[AUTH\] Authentication failed/);
    assert.match(outcome.error.explain(), /Check the username and password/);
    assert.ok(!inspect(outcome.error, { depth: 10 }).includes(WRONG_PASSWORD), 'the password is in no part of the error, cause included');
    assert.equal((await dovecot.listMessages(user.name)).length, 1, 'nothing was deleted');
  });

  it('check() marks the login step failed with the server words, without the password', async () => {
    const connection = connectionSchema.parse(pop3Connection(dovecot, { name: 'wrongpw', password: WRONG_PASSWORD }));
    const steps = await pop3Source.check(connection, { log: quietLog });
    assert.deepEqual(
      steps.map((s) => [s.step, s.ok]),
      [
        ['dns', true],
        ['tcp', true],
        ['tls', true],
        ['greeting', true],
        ['login', false],
      ],
    );
    const login = steps.at(-1)!;
    assert.match(login.detail, /Authentication failed/);
    assert.ok(!JSON.stringify(steps).includes(WRONG_PASSWORD));
  });
});
