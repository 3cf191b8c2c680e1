/**
 * `postroom run --once` with OTEL_EXPORTER_OTLP_ENDPOINT set sends its spans to that OTLP/HTTP
 * collector (here a small HTTP server in the test) before it exits, and the webhook it delivers
 * to gets a `traceparent` of the same trace; the same run without the variable sends nothing and
 * no traceparent (and never loads the SDK: test/cli's lazy-loading test).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { startReceiver, type WebhookReceiver } from '../delivery/webhook-receiver.ts';
import { runCli, writeConfigFile } from '../support/cli.ts';
import { makeEmail } from '../support/corpus.ts';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import { imapConnection, type Workspace, workspace } from '../support/postroom.ts';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
}

let dovecot: Dovecot;
let ws: Workspace;
let receiver: WebhookReceiver;
let collector: http.Server;
let collectorUrl: string;
const exports: Array<{ path: string; contentType: string; body: string }> = [];

before(async () => {
  [dovecot, ws, receiver] = await Promise.all([startDovecot(), workspace(), startReceiver()]);
  collector = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      exports.push({ path: req.url ?? '', contentType: String(req.headers['content-type']), body });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  collectorUrl = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
});
after(async () => {
  await new Promise<void>((resolve) => collector?.close(() => resolve()));
  await receiver?.close();
  await dovecot?.stop();
  await ws?.dispose();
});

function spansIn(body: string): OtlpSpan[] {
  const document = JSON.parse(body) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }> };
  return document.resourceSpans.flatMap((resource) => resource.scopeSpans.flatMap((scope) => scope.spans));
}

it('exports poll, email and delivery spans of one trace over OTLP/HTTP, and the receiver continues it', async () => {
  const user = await dovecot.addUser('otlp', 'secret-otlp');
  await dovecot.deliverMany(user.name, [makeEmail({ subject: 'otlp', text: 'traced over OTLP\n' }).raw]);
  const configPath = await writeConfigFile(ws.dir, {
    store: ws.dataDir,
    destinations: { hook: { type: 'webhook', url: receiver.url } },
    connections: [imapConnection(dovecot, user, { destination: 'hook' })],
    log: { level: 'warn' },
  });
  const run = await runCli(['run', '--once', '--config', configPath], { env: { OTEL_EXPORTER_OTLP_ENDPOINT: collectorUrl } });
  assert.equal(run.code, 0, run.stderr);

  assert.ok(exports.length > 0, 'the spans were sent before the process exited');
  assert.ok(
    exports.every((e) => e.path === '/v1/traces'),
    'to <endpoint>/v1/traces',
  );
  assert.match(exports[0]!.contentType, /^application\/json/);
  const spans = exports.flatMap((e) => spansIn(e.body));
  const poll = spans.find((span) => span.name === 'postroom.poll');
  const email = spans.find((span) => span.name === 'postroom.email');
  const deliver = spans.find((span) => span.name === 'postroom.deliver');
  assert.ok(poll && email && deliver, `poll, email and delivery spans (${spans.map((s) => s.name).join(', ')})`);
  assert.equal(email.parentSpanId, poll.spanId);
  assert.equal(deliver.parentSpanId, email.spanId);
  assert.equal(new Set([poll.traceId, email.traceId, deliver.traceId]).size, 1, 'one trace');
  assert.equal(receiver.requests.at(-1)?.headers.traceparent, `00-${deliver.traceId}-${deliver.spanId}-01`);

  // Without the endpoint: no spans, no traceparent.
  const before = exports.length;
  await dovecot.deliverMany(user.name, [makeEmail({ subject: 'untraced', text: 'not traced\n' }).raw]);
  const quiet = await runCli(['run', '--once', '--config', configPath], { env: { OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '' } });
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.equal(exports.length, before, 'nothing is exported without an endpoint');
  assert.equal(receiver.requests.at(-1)?.headers.traceparent, undefined);
});

it('a delivery made by another process, days later, continues the trace of the email it came from', async () => {
  const user = await dovecot.addUser('otlp-later', 'secret-otlp-later');
  await dovecot.deliverMany(user.name, [makeEmail({ subject: 'later', text: 'delivered by another process\n' }).raw]);
  const configPath = await writeConfigFile(ws.dir, {
    store: join(ws.dir, 'later-data'),
    destinations: { hook: { type: 'webhook', url: receiver.url } },
    connections: [imapConnection(dovecot, user, { name: 'later', destination: 'hook' })],
    log: { level: 'warn' },
  });
  const env = { OTEL_EXPORTER_OTLP_ENDPOINT: collectorUrl };
  receiver.script({ status: 400, body: 'not today' });
  const first = exports.length;
  await runCli(['run', '--once', '--config', configPath], { env });
  const committed = exports.slice(first).flatMap((e) => spansIn(e.body));
  const email = committed.find((span) => span.name === 'postroom.email');
  assert.ok(email, 'the first process traced the email');
  // The replay (another process, as an operator runs it days later) delivers the dead letter itself.
  const second = exports.length;
  const replay = await runCli(['dead-letters', 'replay', '--all', '--config', configPath], { env });
  assert.equal(replay.code, 0, replay.stderr);
  const deliver = exports
    .slice(second)
    .flatMap((e) => spansIn(e.body))
    .find((span) => span.name === 'postroom.deliver');
  assert.ok(deliver, 'the replaying process traced the delivery');
  assert.equal(deliver.traceId, email.traceId, "the delivery is in the email's trace");
  assert.equal(deliver.parentSpanId, email.spanId, "under the email's span");
  assert.equal(receiver.requests.at(-1)?.headers.traceparent, `00-${deliver.traceId}-${deliver.spanId}-01`);
});
