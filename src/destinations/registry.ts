/**
 * Every destination type, one line each: its options schema (used by the config file, the API
 * and the UI) and its driver, loaded only when a destination of that type first delivers, so
 * validating a config (or running one without RabbitMQ) never loads the AMQP client. Adding a
 * destination touches its own files and one line here.
 */
import type { z } from 'zod';
import type { Destination, DestinationContext } from './destination.ts';
import { directoryOptions } from './directory.ts';
import { emailOptions } from './email-options.ts';
import { natsOptions } from './nats-options.ts';
import { rabbitmqOptions } from './rabbitmq-options.ts';
import { redisOptions } from './redis-options.ts';
import { webhookOptions } from './webhook-options.ts';

type Create<S extends z.ZodObject> = (name: string, options: z.infer<S>, context: DestinationContext) => Destination;

interface DestinationType<S extends z.ZodObject> {
  schema: S;
  /** A destination whose driver is loaded on its first delivery (a failed load fails that attempt, which is retried). */
  create(name: string, options: z.infer<S>, context: DestinationContext): Destination;
}

function register<S extends z.ZodObject>(type: string, schema: S, load: () => Promise<Create<S>>): DestinationType<S> {
  let driver: Promise<Create<S>> | undefined;
  const loadDriver = (): Promise<Create<S>> => {
    driver ??= load().catch((error: unknown) => {
      driver = undefined;
      throw error;
    });
    return driver;
  };
  return {
    schema,
    create(name, options, context) {
      let opened: Promise<Destination> | undefined;
      const destination = (): Promise<Destination> => (opened ??= loadDriver().then((create) => create(name, options, context)));
      return {
        name,
        type,
        deliver: async (message) => (await destination()).deliver(message),
        flush: async () => {
          if (opened) await (await opened).flush?.();
        },
        close: async () => {
          if (opened) await (await opened.catch(() => undefined))?.close();
        },
      };
    },
  };
}

export const DESTINATION_TYPES = {
  directory: register('directory', directoryOptions, async () => (await import('./directory.ts')).createDirectoryDestination),
  webhook: register('webhook', webhookOptions, async () => (await import('./webhook.ts')).createWebhookDestination),
  rabbitmq: register('rabbitmq', rabbitmqOptions, async () => (await import('./rabbitmq.ts')).createRabbitmqDestination),
  nats: register('nats', natsOptions, async () => (await import('./nats.ts')).createNatsDestination),
  redis: register('redis', redisOptions, async () => (await import('./redis.ts')).createRedisDestination),
  email: register('email', emailOptions, async () => (await import('./email.ts')).createEmailDestination),
} as const;

export type DestinationTypeName = keyof typeof DESTINATION_TYPES;

export function destinationType(type: string): DestinationType<z.ZodObject> | undefined {
  return (DESTINATION_TYPES as Record<string, DestinationType<z.ZodObject>>)[type];
}
