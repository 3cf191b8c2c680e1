/**
 * Whatever a call site logs (a config, an HTTP request, an error carrying the options it was
 * made with), no secret reaches the log: any key that names a secret is masked, whatever its
 * case or depth, inside arrays, in an Error's own properties and in its cause, and in a child
 * logger's bindings, and a password inside a URL. What is not a secret stays readable.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/model/log.ts';

function capture(): { log: ReturnType<typeof createLogger>; text: () => string } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { log: createLogger({ level: 'trace', destination }), text: () => chunks.join('') };
}

describe('the log keeps secrets out', () => {
  it('masks secret-named keys nested five deep, in arrays, in any case, in errors and bindings', () => {
    const { log, text } = capture();
    const secrets = [
      's3cret-deep-password',
      'Bearer s3cret-authz',
      's3cret-private-key',
      's3cret-pass',
      's3cret-client-secret',
      's3cret-error-token',
      's3cret-cause-password',
      's3cret-binding',
      's3cret-array-token',
      's3cret-api-key',
      's3cret-cookie',
    ];
    log.info({ a: { b: { c: { d: { e: { password: secrets[0] } } } } } }, 'deep');
    log.info({ request: { headers: { Authorization: secrets[1], 'X-Api-Key': secrets[9], Cookie: secrets[10] } } }, 'headers');
    log.info(
      { connections: [{ name: 'graph', certificate: { thumbprint: 'AB12', privateKey: secrets[2] } }, { smtp: { auth: { user: 'me', pass: secrets[3] } } }] },
      'arrays',
    );
    log.warn({ config: { destinations: { out: { oauth2: { clientSecret: secrets[4] } } } } }, 'camel');
    log.info({ list: [[{ tokens: [{ accessToken: secrets[8] }] }]] }, 'arrays of arrays');
    const error = Object.assign(new Error('login failed'), { code: 'AUTH_FAILED', options: { token: secrets[5] } });
    const wrapped = new Error('poll failed', { cause: Object.assign(new Error('inner'), { config: { Password: secrets[6] } }) });
    log.error({ err: error }, 'an error');
    log.error(wrapped, 'an error with a cause');
    log.child({ connection: { name: 'inbox', password: secrets[7] } }).info('from a child');
    const cyclic: Record<string, unknown> = { name: 'loop', secret: 's3cret-cyclic' };
    cyclic.self = cyclic;
    log.info({ cyclic }, 'a cycle');
    log.warn({ servers: 'nats://postroom:s3cret-in-url@127.0.0.1:4222', error: 'could not reach postgres://app:s3cret-pg@db/postroom' }, 'urls');

    const out = text();
    for (const secret of [...secrets, 's3cret-cyclic']) assert.ok(!out.includes(secret), `${secret} appears in the log:\n${out}`);
    assert.ok(!out.includes('s3cret'), out);
    // What is not secret stays.
    for (const kept of [
      'login failed',
      'AUTH_FAILED',
      'AB12',
      '"user":"me"',
      'poll failed',
      'inner',
      '"name":"inbox"',
      'from a child',
      'nats://[redacted]@127.0.0.1:4222',
    ])
      assert.ok(out.includes(kept), `${kept} is missing:\n${out}`);
    assert.equal(out.trim().split('\n').length, 10, 'one line per call');
  });
});
