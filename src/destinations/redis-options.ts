/** The Redis Streams destination's options: validating a config loads this, not the Redis client. */
import { z } from 'zod';
import { duration } from '../config/duration.ts';

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
    /** redis:// or rediss:// (TLS) URL, credentials and database included, e.g. redis://:${REDIS_PASSWORD}@127.0.0.1:6379/0. */
    url: z.string().regex(/^rediss?:\/\//, 'give a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379'),
    /** The stream key to XADD to; {connection} and {kind} are replaced by the message's. */
    stream: z.string().min(1, 'give the stream key, e.g. postroom:emails'),
    /** Content of at most this many bytes goes into the entry (`content`); larger content is kept in its own key (`content-key`). */
    maxInlineBytes: z.number().int().nonnegative().default(DEFAULT_REDIS_MAX_INLINE_BYTES),
    /** Largest content accepted at all (the client holds a message whole); a larger one goes to the dead letters with the reason. */
    maxMessageBytes: z.number().int().positive().default(DEFAULT_REDIS_MAX_MESSAGE_BYTES),
    /** Trim the stream to about this many entries on each XADD (`MAXLEN ~`); no trimming without it. */
    maxLength: z.number().int().positive().optional(),
    /** How long a claim-checked content key lives (the time a reader has to GET it). */
    contentTtl: duration.prefault(DEFAULT_CONTENT_TTL),
    /** How long Postroom remembers that a pipeline message id was added, so a redelivery adds nothing. */
    deduplicationWindow: duration.prefault(DEFAULT_DEDUPLICATION_WINDOW),
    /** Waiting for Redis to connect or answer. */
    timeout: duration.prefault(DEFAULT_REDIS_TIMEOUT),
    /** For rediss://: extra CA certificate(s), PEM text or a path to a PEM file, and whether to verify the server (default). */
    tls: z
      .object({
        ca: z.string().min(1).optional(),
        rejectUnauthorized: z.boolean().default(true),
      })
      .strict()
      .optional(),
  })
  .strict()
  .refine((o) => o.maxInlineBytes <= o.maxMessageBytes, { message: 'maxInlineBytes cannot be more than maxMessageBytes', path: ['maxInlineBytes'] })
  .refine((o) => o.tls === undefined || o.url.startsWith('rediss://'), { message: 'tls applies to a rediss:// URL: use rediss:// or leave tls out', path: ['tls'] });

export type RedisOptions = z.infer<typeof redisOptions>;
