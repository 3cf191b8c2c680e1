/** The RabbitMQ destination's options: validating a config loads this, not the AMQP client. */
import { z } from 'zod';
import { duration } from '../duration.ts';
import { formatOption } from './format-option.ts';

/** RabbitMQ's own max_message_size default (3.8 to 3.13); above it a broker refuses the message anyway. */
export const DEFAULT_RABBITMQ_MAX_MESSAGE_BYTES = 128 * 1024 * 1024;
/** Waiting for the broker's confirm; past it the connection is treated as dead and opened again. */
const DEFAULT_CONFIRM_TIMEOUT = '30s';

export const rabbitmqOptions = z
  .object({
    type: z.literal('rabbitmq'),
    url: z
      .string()
      .regex(/^amqps?:\/\//, 'give an amqp:// or amqps:// URL, e.g. amqp://guest:guest@127.0.0.1:5672')
      .describe(
        '`amqp://` or `amqps://` URL, credentials and vhost included, e.g. `amqp://postroom:${RABBIT_PASSWORD}@rabbit:5672/mail`; shown without the credentials.',
      ),
    exchange: z.string().default('').describe('The exchange to publish to, with `routingKey`; `""` is the default exchange. Nothing is declared.'),
    routingKey: z.string().optional().describe("Routing key; `{connection}` and `{kind}` are replaced by the message's."),
    queue: z.string().min(1).optional().describe('Publish straight to this queue (the default exchange); instead of `exchange` and `routingKey`.'),
    format: formatOption,
    maxMessageBytes: z
      .number()
      .int()
      .positive()
      .default(DEFAULT_RABBITMQ_MAX_MESSAGE_BYTES)
      .describe('Largest content accepted (amqplib holds each message whole); a larger one goes to the dead letters with the reason.'),
    timeout: duration
      .prefault(DEFAULT_CONFIRM_TIMEOUT)
      .describe("How long to wait for the broker's confirm; then the connection is opened again and the message retried."),
  })
  .strict()
  .refine((o) => (o.queue === undefined) !== (o.routingKey === undefined), {
    message: 'give either queue, or routingKey (with exchange)',
    path: ['routingKey'],
  })
  .refine((o) => o.queue === undefined || o.exchange === '', {
    message: 'queue publishes through the default exchange: leave exchange out',
    path: ['exchange'],
  });

export type RabbitmqOptions = z.infer<typeof rabbitmqOptions>;
