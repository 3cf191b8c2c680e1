/** The RabbitMQ destination's options: validating a config loads this, not the AMQP client. */
import { z } from 'zod';
import { duration } from '../duration.ts';

/** RabbitMQ's own max_message_size default (3.8 to 3.13); above it a broker refuses the message anyway. */
export const DEFAULT_RABBITMQ_MAX_MESSAGE_BYTES = 128 * 1024 * 1024;
/** Waiting for the broker's confirm; past it the connection is treated as dead and opened again. */
const DEFAULT_CONFIRM_TIMEOUT = '30s';

export const rabbitmqOptions = z
  .object({
    type: z.literal('rabbitmq'),
    /** amqp:// or amqps:// URL, credentials included (e.g. amqp://user:${RABBIT_PASSWORD}@host:5672/vhost). */
    url: z.string().regex(/^amqps?:\/\//, 'give an amqp:// or amqps:// URL, e.g. amqp://guest:guest@127.0.0.1:5672'),
    /** The exchange to publish to; '' is the default exchange (routing key = queue name). */
    exchange: z.string().default(''),
    /** Routing key; {connection} and {kind} are replaced by the message's. */
    routingKey: z.string().optional(),
    /** Shorthand for exchange '' and routingKey = this queue. */
    queue: z.string().min(1).optional(),
    maxMessageBytes: z.number().int().positive().default(DEFAULT_RABBITMQ_MAX_MESSAGE_BYTES),
    /** How long to wait for the broker to confirm a message. */
    timeout: duration.prefault(DEFAULT_CONFIRM_TIMEOUT),
  })
  .strict()
  .refine((o) => (o.queue === undefined) !== (o.routingKey === undefined), { message: 'give either queue, or routingKey (with exchange)', path: ['routingKey'] })
  .refine((o) => o.queue === undefined || o.exchange === '', { message: 'queue publishes through the default exchange: leave exchange out', path: ['exchange'] });

export type RabbitmqOptions = z.infer<typeof rabbitmqOptions>;
