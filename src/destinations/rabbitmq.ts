/**
 * RabbitMQ destination (amqplib): one AMQP message per pipeline message, published on a confirm
 * channel and counted as delivered only when the broker has confirmed it.
 *
 *   - persistent (delivery mode 2) and `mandatory`: a message no queue takes comes back
 *     (basic.return, which the broker sends before the confirm) and is retried, instead of
 *     being confirmed and silently dropped;
 *   - `messageId` = envelope.id, the same on every attempt, for consumers that deduplicate;
 *     `contentType`, `type` (= kind), `appId` "postroom", `timestamp`;
 *   - headers: `postroom-envelope` (the envelope as JSON) and the fields worth routing on
 *     (`postroom-connection`, `postroom-kind`, `postroom-filename`, `postroom-part-index`,
 *     `postroom-size`, `postroom-sha256`), so a headers exchange can route without parsing;
 *     and `traceparent` (W3C trace context) when Postroom is traced.
 *
 * `format: cloudevents`: the CloudEvents AMQP binding in binary content mode, every attribute
 * also as an application property `cloudEvents:<name>` (typed) and the content as it is;
 * `format: cloudevents-structured`: the body is the CloudEvents JSON document (content as
 * data_base64, content-type application/cloudevents+json). The `postroom-*` headers stay.
 *
 * Publish to `exchange` with `routingKey` (placeholders {connection} and {kind}), or to `queue`
 * (the default exchange). Nothing is declared: the broker's topology belongs to its operators.
 * One connection and one confirm channel are shared by every delivery and opened again, on the
 * next delivery, after the broker or the network drops them.
 *
 * amqplib needs each message whole in memory, so its size is capped by `maxMessageBytes`; a
 * bigger one is refused for good (DELIVERY_REJECTED) with the reason, before anything is read.
 */
import { type ChannelModel, type ConfirmChannel, connect, type Options } from 'amqplib';
import type { MessageFormat } from '../config/destinations/format-option.ts';
import type { RabbitmqOptions } from '../config/destinations/rabbitmq-options.ts';
import type { DeliveryReceipt, Destination, DestinationContext, OutgoingMessage } from '../model/destination.ts';
import type { Envelope } from '../model/envelope.ts';
import { PostroomError } from '../model/errors.ts';
import { traceHeaders } from '../model/tracing.ts';
import { amqpProperties, eventAttributes, STRUCTURED_CONTENT_TYPE, structuredEventBuffer } from './cloudevents.ts';
// amqplib holds each message whole: concurrent deliveries share one memory budget of maxMessageBytes.
import { memoryBudget, readWhole } from './whole-content.ts';

/** AMQP short strings (content-type) hold at most 255 bytes. */
const SHORTSTR_MAX = 255;

export { DEFAULT_RABBITMQ_MAX_MESSAGE_BYTES, type RabbitmqOptions, rabbitmqOptions } from '../config/destinations/rabbitmq-options.ts';

function fill(template: string, envelope: Envelope): string {
  return template.replaceAll('{connection}', envelope.connection).replaceAll('{kind}', envelope.kind);
}

/** The broker as people may see it: host and port, never the credentials in the URL. */
function brokerName(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || (parsed.protocol === 'amqps:' ? '5671' : '5672')}`;
  } catch {
    return 'the broker';
  }
}

function publishProperties(envelope: Envelope, format: MessageFormat, trace: Record<string, string>): Options.Publish {
  const attributes = format === 'raw' ? undefined : eventAttributes(envelope, trace);
  const properties: Options.Publish = {
    messageId: envelope.id,
    persistent: true,
    mandatory: true,
    ...(Buffer.byteLength(envelope.contentType) <= SHORTSTR_MAX ? { contentType: envelope.contentType } : {}),
    type: envelope.kind,
    appId: 'postroom',
    timestamp: Math.floor(Date.parse(envelope.receivedAt) / 1000),
    headers: {
      'postroom-envelope': JSON.stringify(envelope),
      'postroom-connection': envelope.connection,
      'postroom-kind': envelope.kind,
      'postroom-filename': envelope.filename,
      'postroom-part-index': envelope.partIndex,
      'postroom-size': envelope.size,
      'postroom-sha256': envelope.sha256,
      ...trace,
      ...(format === 'cloudevents' && attributes ? amqpProperties(attributes) : {}),
    },
  };
  if (format === 'cloudevents-structured') properties.contentType = STRUCTURED_CONTENT_TYPE;
  return properties;
}

export function createRabbitmqDestination(name: string, options: RabbitmqOptions, context: DestinationContext): Destination {
  const broker = brokerName(options.url);
  const exchange = options.queue === undefined ? options.exchange : '';
  const routingKey = options.queue ?? options.routingKey ?? '';
  const budget = memoryBudget(options.maxMessageBytes);
  let connection: Promise<ChannelModel> | undefined;
  let channel: Promise<ConfirmChannel> | undefined;
  /** Ids the broker sent back as unroutable; read when their confirm arrives (just after). */
  const returned = new Set<string>();
  /** Why the broker last closed the channel: the pending confirms only say "channel closed". */
  let channelError: string | undefined;

  const openConnection = (): Promise<ChannelModel> => {
    const opening = connect(options.url, { timeout: options.timeout }).then((model) => {
      model.on('error', () => {}); // 'close' follows and says it all
      model.on('close', () => {
        if (connection === opening) connection = undefined;
        channel = undefined;
        context.log.info({ broker }, 'RabbitMQ connection closed; the next delivery opens a new one');
      });
      return model;
    });
    opening.catch(() => {
      if (connection === opening) connection = undefined;
    });
    return opening;
  };

  const openChannel = (): Promise<ConfirmChannel> => {
    const opening = (connection ??= openConnection()).then(async (model) => {
      const confirm = await model.createConfirmChannel();
      channelError = undefined;
      // A channel error (no such exchange, message too large) closes the channel; 'close' follows.
      confirm.on('error', (error: Error) => {
        channelError = error.message;
      });
      confirm.on('close', () => {
        if (channel === opening) channel = undefined;
      });
      confirm.on('return', (returnedMessage: { properties: { messageId?: string } }) => {
        if (returnedMessage.properties.messageId) returned.add(returnedMessage.properties.messageId);
      });
      return confirm;
    });
    opening.catch(() => {
      if (channel === opening) channel = undefined;
    });
    return opening;
  };

  const dropConnection = async (): Promise<void> => {
    const current = connection;
    connection = undefined;
    channel = undefined;
    await current?.then((model) => model.close()).catch(() => {});
  };

  /** Publishes on the shared confirm channel and waits for the broker's confirm. */
  const publish = async (envelope: Envelope, content: Buffer): Promise<void> => {
    const trace = traceHeaders();
    if (options.format === 'cloudevents-structured') content = structuredEventBuffer(eventAttributes(envelope, trace), content);
    const key = fill(routingKey, envelope);
    let confirm: ConfirmChannel;
    try {
      confirm = await (channel ??= openChannel());
    } catch (error) {
      throw new PostroomError('DELIVERY_FAILED', `could not reach RabbitMQ at ${broker}: ${(error as Error).message}`, { cause: error });
    }
    returned.delete(envelope.id);
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`no confirm within ${options.timeout} ms`)), options.timeout);
        try {
          confirm.publish(exchange, key, content, publishProperties(envelope, options.format, trace), (error: unknown) =>
            error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(),
          );
        } catch (error) {
          reject(error as Error);
        }
      });
    } catch (error) {
      const reason = channelError ?? (error as Error).message;
      if (reason.startsWith('no confirm')) await dropConnection();
      // The broker's max_message_size: no later attempt will be smaller.
      if (/larger than configured max size/i.test(reason))
        throw new PostroomError('DELIVERY_REJECTED', `RabbitMQ at ${broker} refused ${envelope.id}: ${reason}`, { cause: error });
      throw new PostroomError('DELIVERY_FAILED', `RabbitMQ at ${broker} did not take ${envelope.id}: ${reason}`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
    if (returned.delete(envelope.id)) {
      throw new PostroomError(
        'DELIVERY_FAILED',
        `RabbitMQ at ${broker} has no queue for exchange "${exchange}" and routing key "${key}": the message was returned`,
        {
          hint: 'declare and bind the queue; the message is retried',
        },
      );
    }
  };

  return {
    name,
    type: 'rabbitmq',
    async deliver(message: OutgoingMessage): Promise<DeliveryReceipt> {
      const { envelope } = message;
      if (envelope.size > options.maxMessageBytes) {
        throw new PostroomError(
          'DELIVERY_REJECTED',
          `${envelope.id} (${envelope.filename}) is ${envelope.size} bytes, over maxMessageBytes ${options.maxMessageBytes} of destination "${name}"`,
          {
            hint: "amqplib needs each message whole in memory: raise maxMessageBytes (and the broker's max_message_size) or send large attachments to a webhook or directory destination",
          },
        );
      }
      await budget.take(envelope.size);
      try {
        await publish(envelope, await readWhole(message, options.maxMessageBytes, 'maxMessageBytes'));
        return { reply: `confirmed by RabbitMQ at ${broker} (exchange "${exchange}", routing key "${fill(routingKey, envelope)}")` };
      } finally {
        budget.give(envelope.size);
      }
    },
    async close(): Promise<void> {
      await dropConnection();
    },
  };
}
