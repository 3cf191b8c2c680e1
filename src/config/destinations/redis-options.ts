/** The Redis Streams destination's options: validating a config loads this, not the Redis client. */
import { z } from 'zod';
import { duration } from '../duration.ts';
import { CA_DESCRIPTION } from '../tls-schema.ts';
import { formatOption } from './format-option.ts';

/** Content up to this size travels in the stream entry itself; larger content is a claim check. */
export const DEFAULT_REDIS_MAX_INLINE_BYTES = 256 * 1024;
/** The client holds each message whole to send it; above this a message is refused with the reason. */
export const DEFAULT_REDIS_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
/**
 * How long the idempotency guard of a message is kept. A redelivery comes within a minute of a
 * crash (a dead worker's claims run out), or when a dead letter is replayed: a week covers both.
 */
const DEFAULT_DEDUPLICATION_WINDOW = '7d';
/** How long a claim-checked content key lives: the time a reader has to fetch it. */
const DEFAULT_CONTENT_TTL = '7d';
/** Waiting for Redis (connecting, the answer to a command); past it the attempt is retried. */
const DEFAULT_REDIS_TIMEOUT = '30s';

export const redisOptions = z
  .object({
    type: z.literal('redis'),
    url: z
      .string()
      .regex(/^rediss?:\/\//, 'give a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379')
      .describe(
        '`redis://` or `rediss://` (TLS) URL, password and database included, e.g. `redis://:${REDIS_PASSWORD}@127.0.0.1:6379/0`; shown without the password.',
      ),
    stream: z
      .string()
      .min(1, 'give the stream key, e.g. postroom:emails')
      .describe("The stream key to XADD to; `{connection}` and `{kind}` are replaced by the message's."),
    maxInlineBytes: z
      .number()
      .int()
      .nonnegative()
      .default(DEFAULT_REDIS_MAX_INLINE_BYTES)
      .describe('Content of at most this many bytes is in the entry (`content`); larger content is a claim check (`content-key`).'),
    maxMessageBytes: z
      .number()
      .int()
      .positive()
      .default(DEFAULT_REDIS_MAX_MESSAGE_BYTES)
      .describe('Largest content accepted (the client sends each message whole); a larger one goes to the dead letters with the reason.'),
    maxLength: z.number().int().positive().optional().describe('Trim the stream to about this many entries on each XADD (`MAXLEN ~`); no trimming without it.'),
    contentTtl: duration.prefault(DEFAULT_CONTENT_TTL).describe('How long a claim-checked content key lives: the time a reader has to GET it.'),
    deduplicationWindow: duration
      .prefault(DEFAULT_DEDUPLICATION_WINDOW)
      .describe('How long the `seen` key of a pipeline message id is kept, so a redelivery adds nothing.'),
    format: formatOption,
    timeout: duration.prefault(DEFAULT_REDIS_TIMEOUT).describe('Waiting for Redis to connect or answer; then the attempt is retried.'),
    tls: z
      .object({
        ca: z.string().min(1).optional().describe(CA_DESCRIPTION),
        rejectUnauthorized: z.boolean().default(true).describe('Verify the server certificate (default).'),
      })
      .strict()
      .optional()
      .describe('For `rediss://`: the CA to trust and whether to verify the server.'),
  })
  .strict()
  .refine((o) => o.maxInlineBytes <= o.maxMessageBytes, { message: 'maxInlineBytes cannot be more than maxMessageBytes', path: ['maxInlineBytes'] })
  .refine((o) => o.tls === undefined || o.url.startsWith('rediss://'), {
    message: 'tls applies to a rediss:// URL: use rediss:// or leave tls out',
    path: ['tls'],
  });

export type RedisOptions = z.infer<typeof redisOptions>;
