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
 *     values must be ASCII), `Postroom-Connection`, `Postroom-Kind`.
 *   - `subject` may contain {connection} and {kind}; a dot in a connection name becomes `_`
 *     there, so it stays one subject token.
 *
 * NATS carries a message whole, so its size is capped by `maxMessageBytes` and by the server's
 * max_payload (1 MB unless configured); a bigger one is refused for good (DELIVERY_REJECTED).
 * One connection is shared by every delivery; the client reconnects by itself after a drop and
 * a closed connection is opened again on the next delivery.
 */
import { connect, headers as natsHeaders, nanos, NatsError, type JetStreamClient, type NatsConnection } from 'nats';
import type { NatsOptions } from './nats-options.ts';
import type { Envelope } from '../engine/envelope.ts';
import { PostroomError } from '../errors.ts';
import type { Destination, DestinationContext, OutgoingMessage } from './destination.ts';

/** What a header value may hold; an email can declare any bytes as its content type (it is in the envelope too). */
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;
/** NATS' JetStream API answers 400 for a publish the stream will never take as it is. */
const JS_BAD_REQUEST = 400;

export { natsOptions, type NatsOptions } from './nats-options.ts';

function subjectFor(template: string, envelope: Envelope): string {
  return template.replaceAll('{connection}', envelope.connection.replaceAll('.', '_')).replaceAll('{kind}', envelope.kind);
}

/** The subjects a created stream listens on: every placeholder becomes one wildcard token. */
function streamSubject(template: string): string {
  return template.replaceAll('{connection}', '*').replaceAll('{kind}', '*');
}

async function readCapped(message: OutgoingMessage, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of message.openContent()) {
    total += (chunk as Buffer).length;
    if (total > max) throw new PostroomError('DELIVERY_REJECTED', `${message.envelope.id} is larger than the ${max}-byte NATS message limit`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, total);
}

export function createNatsDestination(name: string, options: NatsOptions, context: DestinationContext): Destination {
  const servers = Array.isArray(options.servers) ? options.servers : [options.servers];
  const where = servers.join(', ');
  let connection: Promise<{ nc: NatsConnection; js: JetStreamClient }> | undefined;

  const open = (): Promise<{ nc: NatsConnection; js: JetStreamClient }> => {
    const opening = (async () => {
      const nc = await connect({
        servers,
        name: `postroom:${name}`,
        timeout: options.timeout,
        maxReconnectAttempts: -1,
        ...(options.username ? { user: options.username } : {}),
        ...(options.password ? { pass: options.password } : {}),
        ...(options.token ? { token: options.token } : {}),
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
      if (!options.createStream) throw new PostroomError('DELIVERY_FAILED', `NATS stream "${stream}" does not exist`, { hint: 'create it (or set createStream: true); the message is retried' });
      await jsm.streams.add({ name: stream, subjects: [streamSubject(options.subject)], duplicate_window: nanos(options.duplicateWindow) });
      context.log.info({ stream, subject: streamSubject(options.subject) }, 'created the NATS JetStream stream');
    }
  };

  return {
    name,
    type: 'nats',
    async deliver(message: OutgoingMessage): Promise<void> {
      const { envelope } = message;
      let client: { nc: NatsConnection; js: JetStreamClient };
      try {
        client = await (connection ??= open());
      } catch (error) {
        if (error instanceof PostroomError) throw error;
        throw new PostroomError('DELIVERY_FAILED', `could not reach NATS JetStream at ${where}: ${(error as Error).message}`, { cause: error });
      }
      const max = Math.min(options.maxMessageBytes ?? Number.POSITIVE_INFINITY, client.nc.info?.max_payload ?? Number.POSITIVE_INFINITY);
      if (envelope.size > max) {
        throw new PostroomError('DELIVERY_REJECTED', `${envelope.id} (${envelope.filename}) is ${envelope.size} bytes, over the ${max}-byte limit of destination "${name}"`, {
          hint: 'NATS carries each message whole: raise maxMessageBytes and the server\'s max_payload, or send large attachments to a webhook or directory destination',
        });
      }
      const data = await readCapped(message, max);
      const headers = natsHeaders();
      if (HEADER_VALUE.test(envelope.contentType)) headers.set('Content-Type', envelope.contentType);
      headers.set('Postroom-Envelope', Buffer.from(JSON.stringify(envelope), 'utf8').toString('base64url'));
      headers.set('Postroom-Connection', envelope.connection);
      headers.set('Postroom-Kind', envelope.kind);
      const subject = subjectFor(options.subject, envelope);
      try {
        await client.js.publish(subject, data, {
          msgID: envelope.id,
          headers,
          timeout: options.timeout,
          ...(options.stream ? { expect: { streamName: options.stream } } : {}),
        });
      } catch (error) {
        const code = error instanceof NatsError ? error.api_error?.code : undefined;
        const reason = error instanceof NatsError && error.code === '503' ? `no stream takes subject "${subject}"` : (error as Error).message;
        throw new PostroomError(code === JS_BAD_REQUEST ? 'DELIVERY_REJECTED' : 'DELIVERY_FAILED', `NATS JetStream at ${where} did not store ${envelope.id}: ${reason}`, { cause: error });
      }
    },
    async close(): Promise<void> {
      const current = connection;
      connection = undefined;
      await current?.then(({ nc }) => nc.drain()).catch(() => {});
    },
  };
}
