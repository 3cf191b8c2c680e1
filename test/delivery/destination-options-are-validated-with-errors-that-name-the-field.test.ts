import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configSchema } from '../../src/config/schema.ts';

const WHSEC = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

function issues(destination: Record<string, unknown>): string[] {
  const parsed = configSchema.safeParse({ store: '/tmp/never-opened', destinations: { out: destination } });
  return parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe('destination options', () => {
  it('accepts each destination type with its defaults filled in', () => {
    const config = configSchema.parse({
      destinations: {
        hook: { type: 'webhook', url: 'https://example.com/hook', secret: WHSEC },
        rabbit: { type: 'rabbitmq', url: 'amqp://guest:guest@127.0.0.1:5672', queue: 'emails' },
        stream: { type: 'nats', servers: 'nats://127.0.0.1:4222', subject: 'mail.{connection}.{kind}', stream: 'MAIL', createStream: true },
        redis: { type: 'redis', url: 'redis://127.0.0.1:6379', stream: 'postroom:emails' },
      },
    });
    assert.deepEqual(config.destinations.hook, {
      type: 'webhook',
      url: 'https://example.com/hook',
      secret: WHSEC,
      headers: {},
      format: 'raw',
      envelope: 'header',
      maxEnvelopeHeaderBytes: 4096,
      timeout: 30_000,
    });
    assert.equal(config.destinations.rabbit?.maxMessageBytes, 128 * 1024 * 1024);
    assert.equal(config.destinations.rabbit?.exchange, '');
    assert.equal(config.destinations.stream?.duplicateWindow, 3_600_000);
    assert.deepEqual(config.destinations.redis, {
      type: 'redis',
      url: 'redis://127.0.0.1:6379',
      stream: 'postroom:emails',
      maxInlineBytes: 256 * 1024,
      maxMessageBytes: 64 * 1024 * 1024,
      contentTtl: 7 * 86_400_000,
      deduplicationWindow: 7 * 86_400_000,
      format: 'raw',
      timeout: 30_000,
    });
    assert.equal(config.outbox.maxPending, 10_000, 'backpressure bound by default');
  });

  it('says which field is wrong', () => {
    assert.deepEqual(issues({ type: 'webhook', url: 'ftp://example.com/' }), ['destinations.out.url: the webhook URL must be http:// or https://']);
    assert.deepEqual(
      issues({ type: 'webhook', url: 'not a url' }),
      ['destinations.out.url: give the URL to POST pipeline messages to, e.g. https://example.com/hooks/postroom'],
      'the field and the fix, not a TypeError from the checks after .url()',
    );
    assert.match(
      issues({ type: 'webhook', url: 'https://example.com/', headers: { 'Idempotency-Key': 'x' } })[0] ?? '',
      /^destinations\.out\.headers: headers may not set/,
    );
    assert.match(
      issues({ type: 'webhook', url: 'https://example.com/', headers: { 'CE-Type': 'x' } })[0] ?? '',
      /^destinations\.out\.headers: headers may not set .* or ce-\*/,
    );
    assert.deepEqual(issues({ type: 'webhook', url: 'https://example.com/', format: 'cloudevents', envelope: 'body' }), [
      'destinations.out.envelope: envelope: body needs format: raw (a CloudEvent has the content as its body); leave envelope out, or use format: raw',
    ]);
    assert.deepEqual(issues({ type: 'webhook', url: 'https://example.com/', format: 'cloud' }), [
      'destinations.out.format: format is one of raw, cloudevents, cloudevents-structured',
    ]);
    assert.match(issues({ type: 'webhook', url: 'https://example.com/', timeout: 'soon' })[0] ?? '', /^destinations\.out\.timeout: "soon" is not a duration/);
    assert.match(
      issues({ type: 'webhook', url: 'https://example.com/', secret: 's3cret' })[0] ?? '',
      /^destinations\.out\.secret: a webhook secret is a Standard Webhooks secret: whsec_ .*openssl rand -base64 32/,
    );
    assert.match(
      issues({ type: 'webhook', url: 'https://example.com/', secret: 'whsec_c2hvcnQ=' })[0] ?? '',
      /^destinations\.out\.secret: the secret after whsec_ must decode to 24 to 64 bytes/,
    );
    assert.deepEqual(issues({ type: 'rabbitmq', url: 'amqp://127.0.0.1' }), ['destinations.out.routingKey: give either queue, or routingKey (with exchange)']);
    assert.deepEqual(issues({ type: 'rabbitmq', url: 'http://127.0.0.1', queue: 'q' }), [
      'destinations.out.url: give an amqp:// or amqps:// URL, e.g. amqp://guest:guest@127.0.0.1:5672',
    ]);
    assert.deepEqual(issues({ type: 'nats', servers: 'nats://127.0.0.1:4222', subject: 'mail.>' }), [
      'destinations.out.subject: a subject has no spaces and no wildcards (* or >)',
    ]);
    assert.deepEqual(issues({ type: 'nats', servers: 'nats://127.0.0.1:4222', subject: 'mail', createStream: true }), [
      'destinations.out.stream: createStream needs stream: the name of the stream to create',
    ]);
    assert.deepEqual(issues({ type: 'redis', url: 'http://127.0.0.1:6379', stream: 's' }), [
      'destinations.out.url: give a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379',
    ]);
    assert.deepEqual(issues({ type: 'redis', url: 'redis://127.0.0.1:6379', stream: 's', tls: { rejectUnauthorized: false } }), [
      'destinations.out.tls: tls applies to a rediss:// URL: use rediss:// or leave tls out',
    ]);
    assert.match(issues({ type: 'kafka' })[0] ?? '', /unknown destination type "kafka"; use one of .*webhook, rabbitmq, nats/);
  });
});
