/**
 * Every destination type, one line each: its options schema (used by the config file, the API
 * and the UI) and its factory. Adding a destination touches its own file and one line here.
 */
import type { z } from 'zod';
import type { Destination, DestinationContext } from './destination.ts';
import { createDirectoryDestination, directoryOptions } from './directory.ts';
import { createEmailDestination, emailOptions } from './email.ts';
import { createNatsDestination, natsOptions } from './nats.ts';
import { createRabbitmqDestination, rabbitmqOptions } from './rabbitmq.ts';
import { createWebhookDestination, webhookOptions } from './webhook.ts';

interface DestinationType<S extends z.ZodObject> {
  schema: S;
  create(name: string, options: z.infer<S>, context: DestinationContext): Destination;
}

function register<S extends z.ZodObject>(schema: S, create: DestinationType<S>['create']): DestinationType<S> {
  return { schema, create };
}

export const DESTINATION_TYPES = {
  directory: register(directoryOptions, createDirectoryDestination),
  webhook: register(webhookOptions, createWebhookDestination),
  rabbitmq: register(rabbitmqOptions, createRabbitmqDestination),
  nats: register(natsOptions, createNatsDestination),
  email: register(emailOptions, createEmailDestination),
} as const;

export type DestinationTypeName = keyof typeof DESTINATION_TYPES;

export function destinationType(type: string): DestinationType<z.ZodObject> | undefined {
  return (DESTINATION_TYPES as Record<string, DestinationType<z.ZodObject>>)[type];
}
