import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectionSchema } from '../../src/config/schema.ts';
import { pop3Source } from '../../src/sources/pop3/pop3-source.ts';
import { makeEmail } from '../support/corpus.ts';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import { pop3Connection, quietLog } from '../support/postroom.ts';

describe('postroom check for POP3', () => {
  let dovecot: Dovecot;
  const user = { name: 'checked', password: 'secret-check' };

  before(async () => {
    dovecot = await startDovecot();
    await dovecot.addUser(user.name, user.password);
    await dovecot.deliverMany(user.name, [makeEmail({ subject: 'one', text: 'one\n' }).raw, makeEmail({ subject: 'two', text: 'two\n' }).raw]);
  });
  after(async () => {
    await dovecot?.stop();
  });

  it('walks DNS, TCP, TLS, greeting, login, STAT and UIDL over implicit TLS', async () => {
    const steps = await pop3Source.check(connectionSchema.parse(pop3Connection(dovecot, user)), { log: quietLog });
    assert.deepEqual(
      steps.map((s) => [s.step, s.ok]),
      [
        ['dns', true],
        ['tcp', true],
        ['tls', true],
        ['greeting', true],
        ['login', true],
        ['mailbox', true],
        ['capabilities', true],
      ],
      JSON.stringify(steps),
    );
    const detail = Object.fromEntries(steps.map((s) => [s.step, s.detail]));
    assert.match(detail.tls!, /verified/);
    assert.match(detail.greeting!, /answered \+OK; capabilities: .*UIDL/);
    assert.ok(!/Dovecot/.test(detail.greeting!), "the server's own greeting text is not echoed");
    assert.match(detail.login!, /logged in as checked over TLS/);
    assert.match(detail.mailbox!, /^2 emails, \d+ bytes/);
    assert.match(detail.capabilities!, /UIDL yes \(2 listed\), TOP yes, PIPELINING yes/);
    assert.equal((await dovecot.listMessages(user.name)).length, 2, 'check deletes nothing');
  });

  it('reports the STLS upgrade as its own step on the plain port', async () => {
    const connection = connectionSchema.parse(pop3Connection(dovecot, user, { port: dovecot.pop3Port, useSsl: false, startTls: true }));
    const steps = await pop3Source.check(connection, { log: quietLog });
    assert.deepEqual(
      steps.map((s) => [s.step, s.ok]),
      [
        ['dns', true],
        ['tcp', true],
        ['greeting', true],
        ['tls', true],
        ['login', true],
        ['mailbox', true],
        ['capabilities', true],
      ],
      JSON.stringify(steps),
    );
    assert.match(steps.find((s) => s.step === 'login')!.detail, /over TLS/);
  });

  it('says WITHOUT TLS when neither useSsl nor startTls is on', async () => {
    const connection = connectionSchema.parse(pop3Connection(dovecot, user, { port: dovecot.pop3Port, useSsl: false, startTls: false }));
    const steps = await pop3Source.check(connection, { log: quietLog });
    assert.match(steps.find((s) => s.step === 'login')!.detail, /WITHOUT TLS/);
  });

  it('names the TLS failure when the certificate is not trusted', async () => {
    const connection = connectionSchema.parse(pop3Connection(dovecot, user, { tls: {} }));
    const steps = await pop3Source.check(connection, { log: quietLog });
    const last = steps.at(-1)!;
    assert.equal(last.step, 'tls');
    assert.equal(last.ok, false);
    assert.match(last.detail, /certificate/i);
  });
});
