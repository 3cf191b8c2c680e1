/**
 * Traces from mailbox to destination: one `postroom.poll` span per poll, a `postroom.email` span
 * per email under it (pickup, commit, acknowledge), a `postroom.deliver` span per delivery under
 * its email's, all one trace; and the `traceparent` the webhook receives names the delivery span,
 * so the receiver's own trace continues Postroom's. Read with the SDK's in-memory exporter,
 * through the same setup (service/telemetry.ts) that sends spans over OTLP.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { configSchema } from '../../src/config/schema.ts';
import { startTracing, type Telemetry } from '../../src/service/telemetry.ts';
import { startReceiver, type WebhookReceiver } from '../delivery/webhook-receiver.ts';
import { makeEmail, pseudoRandomBytes } from '../support/corpus.ts';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import { imapConnection, runOnce, type Workspace, workspace } from '../support/postroom.ts';

let dovecot: Dovecot;
let ws: Workspace;
let receiver: WebhookReceiver;
let telemetry: Telemetry;
const exporter = new InMemorySpanExporter();

before(async () => {
  [dovecot, ws, receiver] = await Promise.all([startDovecot(), workspace(), startReceiver()]);
});
after(async () => {
  await telemetry?.shutdown();
  await receiver?.close();
  await dovecot?.stop();
  await ws?.dispose();
});

const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId;

it('one trace covers each email from the poll to the delivery, and its traceparent reaches the receiver', async () => {
  const user = await dovecot.addUser('traced', 'secret-traced');
  const emails = [0, 1].map((i) =>
    makeEmail({
      subject: `traced ${i}`,
      text: `email ${i}\n`,
      attachments: [{ filename: `scan-${i}.bin`, content: pseudoRandomBytes(5_000, `traced-${i}`), contentType: 'application/octet-stream' }],
    }),
  );
  await dovecot.deliverMany(
    user.name,
    emails.map((e) => e.raw),
  );
  const config = configSchema.parse({
    store: ws.dataDir,
    destinations: { hook: { type: 'webhook', url: receiver.url } },
    connections: [imapConnection(dovecot, user, { destination: 'hook' })],
  });
  telemetry = await startTracing(config, { exporter, simple: true });
  const { delivery } = await runOnce(config);
  assert.equal(delivery.delivered, 4);

  const spans = exporter.getFinishedSpans();
  const named = (name: string) => spans.filter((span) => span.name === name);
  const [poll, ...otherPolls] = named('postroom.poll');
  assert.ok(poll, 'a poll span');
  assert.equal(otherPolls.length, 0, 'one poll');
  assert.equal(poll.attributes['postroom.connection'], 'inbox');
  assert.equal(poll.attributes['postroom.poll.status'], 'done');
  assert.equal(poll.attributes['postroom.poll.emails'], 2);

  const emailSpans = named('postroom.email');
  assert.equal(emailSpans.length, 2, 'one span per email');
  for (const email of emailSpans) {
    assert.equal(email.spanContext().traceId, poll.spanContext().traceId, "the email is in the poll's trace");
    assert.equal(parentOf(email), poll.spanContext().spanId, 'under the poll');
    assert.deepEqual(
      email.events.map((event) => event.name),
      ['committed', 'acknowledged'],
      'pickup, commit, acknowledge',
    );
  }

  const deliveries = named('postroom.deliver');
  assert.equal(deliveries.length, 4, 'one span per delivery');
  for (const deliver of deliveries) {
    const email = emailSpans.find((span) => span.spanContext().spanId === parentOf(deliver));
    assert.ok(email, `the delivery of ${deliver.attributes['postroom.message_id']} is under its email's span`);
    assert.equal(deliver.spanContext().traceId, poll.spanContext().traceId);
    assert.equal(deliver.attributes['postroom.destination'], 'hook');
    const request = receiver.requests.find((r) => r.headers['webhook-id'] === deliver.attributes['postroom.message_id']);
    assert.ok(request, 'the receiver got it');
    assert.equal(request.headers.traceparent, `00-${deliver.spanContext().traceId}-${deliver.spanContext().spanId}-01`, 'traceparent names the delivery span');
  }
});
