/**
 * Every destination type's driver, one line each, loaded only when a destination of that type
 * first delivers: running a config without RabbitMQ never loads the AMQP client. The options
 * schemas are in config/destination-schemas.ts; adding a destination touches its own files, one
 * line there and one line here.
 */
import { DESTINATION_TYPE_NAMES, type DestinationTypeName } from '../config/destination-schemas.ts';
import type { CreateDestination, Destination, DestinationContext } from '../model/destination.ts';
import { PostroomError } from '../model/errors.ts';

// Each driver takes its own options type; the table is only handed options its schema parsed.
type Driver = (name: string, options: never, context: DestinationContext) => Destination;

const DRIVERS: Record<DestinationTypeName, () => Promise<Driver>> = {
  directory: async () => (await import('./directory.ts')).createDirectoryDestination,
  webhook: async () => (await import('./webhook.ts')).createWebhookDestination,
  rabbitmq: async () => (await import('./rabbitmq.ts')).createRabbitmqDestination,
  nats: async () => (await import('./nats.ts')).createNatsDestination,
  redis: async () => (await import('./redis.ts')).createRedisDestination,
  email: async () => (await import('./email.ts')).createEmailDestination,
};

const loaded = new Map<string, Promise<Driver>>();

function loadDriver(type: DestinationTypeName): Promise<Driver> {
  let driver = loaded.get(type);
  if (!driver) {
    driver = DRIVERS[type]().catch((error: unknown) => {
      loaded.delete(type);
      throw error;
    });
    loaded.set(type, driver);
  }
  return driver;
}

/**
 * The destination a config names, with options its type's schema has parsed. Its driver loads on
 * the first delivery (a failed load fails that attempt, which is retried).
 */
export const createDestination: CreateDestination = (name, options, context) => {
  const type = options.type;
  if (!Object.hasOwn(DRIVERS, type)) {
    throw new PostroomError('CONFIG_INVALID', `destination "${name}" has unknown type "${type}"; use one of ${DESTINATION_TYPE_NAMES.join(', ')}`);
  }
  let opened: Promise<Destination> | undefined;
  const destination = (): Promise<Destination> =>
    (opened ??= loadDriver(type as DestinationTypeName).then((create) => create(name, options as never, context)));
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
};
