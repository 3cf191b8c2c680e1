/**
 * NATS JetStream destination: one JetStream publish per pipeline message, counted as delivered
 * only once the stream has acknowledged it (PubAck).
 *
 *   - `Nats-Msg-Id` = envelope.id: the stream drops a message whose id it has seen within its
 *     duplicate window, so a redelivery from the outbox (after a crash between the PubAck and
 *     the outbox update) is stored once. The window must cover the time a redelivery can take:
 *     a crashed worker's claims free up after a minute, so streams this destination creates
 *     get `duplicateWindow` (default 1 h); for an existing stream, check its duplicate_window.
 *   - headers: `Content-Type`, `Postroom-Envelope` (the envelope as base64url JSON: header
 *     values must be ASCII), `Postroom-Connection`, `Postroom-Kind`, and `traceparent` (W3C
 *     trace context) when Postroom is traced.
 *   - `subject` may contain {connection} and {kind}; a dot in a connection name becomes `_`
 *     there, so it stays one subject token.
 *
 * `format: cloudevents`: the CloudEvents NATS binding in binary content mode, every attribute as
 * a `ce-<name>` header (percent-encoded as over HTTP) and Content-Type the content's;
 * `format: cloudevents-structured`: the payload is the CloudEvents JSON document (content as
 * data_base64, Content-Type application/cloudevents+json). The Postroom-* headers stay.
 *
 * NATS carries a message whole, so its size is capped by `maxMessageBytes` and by the server's
 * max_payload (1 MB unless configured); a bigger one is refused for good (DELIVERY_REJECTED).
 * One connection is shared by every delivery; the client reconnects by itself after a drop and
 * a closed connection is opened again on the next delivery.
 *
 * Credentials may be written into a server URL (nats://user:password@host, nats://token@host):
 * they are taken out for the login and the URL is shown without them, in errors and logs.
 * `tls` (true, or { ca, rejectUnauthorized }) makes TLS required: a server that does not offer
 * it is refused, never used in plain text.
 */
import { connect, ErrorCode, type JetStreamClient, type NatsConnection, NatsError, nanos, headers as natsHeaders } from 'nats';
import type { NatsOptions } from '../config/destinations/nats-options.ts';
import type { DeliveryReceipt, Destination, DestinationContext, OutgoingMessage } from '../model/destination.ts';
import type { Envelope } from '../model/envelope.ts';
import { PostroomError } from '../model/errors.ts';
import { traceHeaders } from '../model/tracing.ts';
import { resolveCa } from '../net/probe.ts';
import { binaryHeaders, eventAttributes, STRUCTURED_CONTENT_TYPE, structuredEventBuffer } from './cloudevents.ts';
import { readWhole } from './whole-content.ts';

/** What a header value may hold; an email can declare any bytes as its content type (it is in the envelope too). */
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;
/** NATS' JetStream API answers 400 for a publish the stream will never take as it is. */
const JS_BAD_REQUEST = 400;

export { type NatsOptions, natsOptions } from '../config/destinations/nats-options.ts';

function subjectFor(template: string, envelope: Envelope): string {
  return template.replaceAll('{connection}', envelope.connection.replaceAll('.', '_')).replaceAll('{kind}', envelope.kind);
}

/** The subjects a created stream listens on: every placeholder becomes one wildcard token. */
function streamSubject(template: string): string {
  return template.replaceAll('{connection}', '*').replaceAll('{kind}', '*');
}

/** `[scheme://][userinfo@]rest`: what a NATS server address may look like. */
const SERVER_WITH_USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)?([^@/]*)@(.*)$/i;

interface ServerCredentials {
  user?: string;
  pass?: string;
  token?: string;
}

/** Takes `user:password@` (or `token@`) out of a server address: the login gets them, the address shown does not. */
export function splitServerUrl(server: string): { server: string; credentials: ServerCredentials } {
  const match = SERVER_WITH_USERINFO.exec(server);
  if (!match) return { server, credentials: {} };
  const [, scheme = '', userinfo = '', rest = ''] = match;
  const colon = userinfo.indexOf(':');
  const decode = (text: string): string => {
    try {
      return decodeURIComponent(text);
    } catch {
      return text;
    }
  };
  const credentials: ServerCredentials =
    colon === -1 ? { token: decode(userinfo) } : { user: decode(userinfo.slice(0, colon)), pass: decode(userinfo.slice(colon + 1)) };
  return { server: `${scheme}${rest}`, credentials };
}

/** The nats client's `tls`: TLS required, the CA resolved from a file if need be. */
function natsTls(tls: NonNullable<NatsOptions['tls']>): Record<string, unknown> {
  if (tls === true) return {};
  const ca = resolveCa(tls.ca);
  return { rejectUnauthorized: tls.rejectUnauthorized, ...(ca ? { ca } : {}) };
}

export function createNatsDestination(name: string, options: NatsOptions, context: DestinationContext): Destination {
  const split = (Array.isArray(options.servers) ? options.servers : [options.servers]).map(splitServerUrl);
  const servers = split.map((entry) => entry.server);
  // Given options win over a URL's; the first URL with credentials supplies the rest.
  const fromUrl = split.find((entry) => Object.keys(entry.credentials).length > 0)?.credentials ?? {};
  const user = options.username ?? fromUrl.user;
  const pass = options.password ?? fromUrl.pass;
  const token = options.token ?? fromUrl.token;
  const where = servers.join(', ');
  let connection: Promise<{ nc: NatsConnection; js: JetStreamClient }> | undefined;

  const open = (): Promise<{ nc: NatsConnection; js: JetStreamClient }> => {
    const opening = (async () => {
      const nc = await connect({
        servers,
        name: `postroom:${name}`,
        timeout: options.timeout,
        maxReconnectAttempts: -1,
        ...(user ? { user } : {}),
        ...(pass ? { pass } : {}),
        ...(token ? { token } : {}),
        ...(options.tls ? { tls: natsTls(options.tls) } : {}),
      });
      void nc.closed().then(() => {
        if (connection === opening) connection = undefined;
        context.log.info({ servers: where }, 'NATS connection closed; the next delivery opens a new one');
      });
      if (options.stream) await ensureStream(nc, options.stream);
      return { nc, js: nc.jetstream({ timeout: options.timeout }) };
    })();
    opening.catch(() => {
      if (connection === opening) connection = undefined;
    });
    return opening;
  };

  const ensureStream = async (nc: NatsConnection, stream: string): Promise<void> => {
    const jsm = await nc.jetstreamManager({ timeout: options.timeout });
    try {
      await jsm.streams.info(stream);
    } catch (error) {
      if (!(error instanceof NatsError && error.api_error?.code === 404)) throw error;
      if (!options.createStream)
        throw new PostroomError('DELIVERY_FAILED', `NATS stream "${stream}" does not exist`, {
          hint: 'create it (or set createStream: true); the message is retried',
        });
      await jsm.streams.add({ name: stream, subjects: [streamSubject(options.subject)], duplicate_window: nanos(options.duplicateWindow) });
      context.log.info({ stream, subject: streamSubject(options.subject) }, 'created the NATS JetStream stream');
    }
  };

  return {
    name,
    type: 'nats',
    async deliver(message: OutgoingMessage): Promise<DeliveryReceipt> {
      const { envelope } = message;
      let client: { nc: NatsConnection; js: JetStreamClient };
      try {
        client = await (connection ??= open());
      } catch (error) {
        if (error instanceof PostroomError) throw error;
        if (options.tls && error instanceof NatsError && error.code === ErrorCode.ServerOptionNotAvailable && error.message === 'tls') {
          throw new PostroomError('DELIVERY_FAILED', `NATS at ${where} does not offer TLS, and tls is set: Postroom does not connect without it`, {
            cause: error,
            hint: 'enable TLS on the NATS server (tls { cert_file, key_file }), or check that servers points at the right one; the message is retried',
          });
        }
        throw new PostroomError('DELIVERY_FAILED', `could not reach NATS JetStream at ${where}: ${(error as Error).message}`, { cause: error });
      }
      const max = Math.min(options.maxMessageBytes ?? Number.POSITIVE_INFINITY, client.nc.info?.max_payload ?? Number.POSITIVE_INFINITY);
      if (envelope.size > max) {
        throw new PostroomError(
          'DELIVERY_REJECTED',
          `${envelope.id} (${envelope.filename}) is ${envelope.size} bytes, over the ${max}-byte limit of destination "${name}"`,
          {
            hint: "NATS carries each message whole: raise maxMessageBytes and the server's max_payload, or send large attachments to a webhook or directory destination",
          },
        );
      }
      let data = await readWhole(message, max, 'the NATS message limit');
      const headers = natsHeaders();
      const trace = traceHeaders();
      for (const [header, value] of Object.entries(trace)) headers.set(header, value);
      if (options.format === 'cloudevents-structured') {
        data = structuredEventBuffer(eventAttributes(envelope, trace), data);
        if (data.length > max)
          throw new PostroomError(
            'DELIVERY_REJECTED',
            `${envelope.id} as a CloudEvents document is ${data.length} bytes, over the ${max}-byte limit of destination "${name}"`,
          );
        headers.set('Content-Type', STRUCTURED_CONTENT_TYPE);
      } else if (HEADER_VALUE.test(envelope.contentType)) headers.set('Content-Type', envelope.contentType);
      if (options.format === 'cloudevents')
        for (const [header, value] of Object.entries(binaryHeaders(eventAttributes(envelope, trace)))) headers.set(header, value);
      headers.set('Postroom-Envelope', Buffer.from(JSON.stringify(envelope), 'utf8').toString('base64url'));
      headers.set('Postroom-Connection', envelope.connection);
      headers.set('Postroom-Kind', envelope.kind);
      const subject = subjectFor(options.subject, envelope);
      try {
        const ack = await client.js.publish(subject, data, {
          msgID: envelope.id,
          headers,
          timeout: options.timeout,
          ...(options.stream ? { expect: { streamName: options.stream } } : {}),
        });
        return { reply: `JetStream stream ${ack.stream} seq ${ack.seq}${ack.duplicate ? ' (a duplicate: JetStream kept the first)' : ''}` };
      } catch (error) {
        const code = error instanceof NatsError ? error.api_error?.code : undefined;
        const reason = error instanceof NatsError && error.code === '503' ? `no stream takes subject "${subject}"` : (error as Error).message;
        throw new PostroomError(
          code === JS_BAD_REQUEST ? 'DELIVERY_REJECTED' : 'DELIVERY_FAILED',
          `NATS JetStream at ${where} did not store ${envelope.id}: ${reason}`,
          { cause: error },
        );
      }
    },
    async close(): Promise<void> {
      const current = connection;
      connection = undefined;
      await current?.then(({ nc }) => nc.drain()).catch(() => {});
    },
  };
}
