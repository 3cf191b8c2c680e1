/** The NATS JetStream destination's options: validating a config loads this, not the NATS client. */
import { z } from 'zod';
import { duration } from '../duration.ts';

/** Waiting for the PubAck (and for the connection); past it the attempt is retried. */
const DEFAULT_ACK_TIMEOUT = '30s';
/** Duplicate window for a stream this destination creates: well past the one-minute claim expiry. */
const DEFAULT_DUPLICATE_WINDOW = '1h';

export const natsOptions = z
  .object({
    type: z.literal('nats'),
    /** One server or several, e.g. nats://127.0.0.1:4222. */
    servers: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    /** Subject to publish on; {connection} and {kind} are replaced by the message's. */
    subject: z.string().min(1).regex(/^[^\s*>]+$/, 'a subject has no spaces and no wildcards (* or >)'),
    /** The stream expected to store the messages (its name is checked on every PubAck). */
    stream: z.string().min(1).optional(),
    /** Create `stream` (file storage, subjects from `subject`) when it does not exist. */
    createStream: z.boolean().default(false),
    duplicateWindow: duration.prefault(DEFAULT_DUPLICATE_WINDOW),
    /** Largest message to publish; the server's max_payload caps it too. */
    maxMessageBytes: z.number().int().positive().optional(),
    username: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    token: z.string().min(1).optional(),
    /** Require TLS: true, or the CA to trust (PEM text or a file) and whether to verify the certificate. */
    tls: z
      .union([
        z.literal(true),
        z
          .object({
            /** Extra CA certificate(s), PEM text or a path to a PEM file. */
            ca: z.string().min(1).optional(),
            /** Verify the server certificate (default). Turn off only for a server you trust on a network you trust. */
            rejectUnauthorized: z.boolean().default(true),
          })
          .strict(),
      ])
      .optional(),
    timeout: duration.prefault(DEFAULT_ACK_TIMEOUT),
  })
  .strict()
  .refine((o) => !o.createStream || o.stream !== undefined, { message: 'createStream needs stream: the name of the stream to create', path: ['stream'] });

export type NatsOptions = z.infer<typeof natsOptions>;
