/**
 * Every destination type's options schema, one line each: the config file, the API and the UI
 * validate with these. The drivers live in destinations/ and load only when a destination of
 * their type delivers, so validating a config never loads a destination's client library.
 */
import type { z } from 'zod';
import { directoryOptions } from './destinations/directory-options.ts';
import { emailOptions } from './destinations/email-options.ts';
import { natsOptions } from './destinations/nats-options.ts';
import { rabbitmqOptions } from './destinations/rabbitmq-options.ts';
import { redisOptions } from './destinations/redis-options.ts';
import { webhookOptions } from './destinations/webhook-options.ts';

export const DESTINATION_SCHEMAS = {
  directory: directoryOptions,
  webhook: webhookOptions,
  rabbitmq: rabbitmqOptions,
  nats: natsOptions,
  redis: redisOptions,
  email: emailOptions,
} as const satisfies Record<string, z.ZodType>;

export type DestinationTypeName = keyof typeof DESTINATION_SCHEMAS;

export const DESTINATION_TYPE_NAMES = Object.keys(DESTINATION_SCHEMAS) as DestinationTypeName[];

export function destinationSchema(type: string): z.ZodType | undefined {
  return Object.hasOwn(DESTINATION_SCHEMAS, type) ? DESTINATION_SCHEMAS[type as DestinationTypeName] : undefined;
}
