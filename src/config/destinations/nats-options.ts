/** The NATS JetStream destination's options: validating a config loads this, not the NATS client. */
import { z } from 'zod';
import { duration } from '../duration.ts';
import { CA_DESCRIPTION } from '../tls-schema.ts';
import { formatOption } from './format-option.ts';

/** Waiting for the PubAck (and for the connection); past it the attempt is retried. */
const DEFAULT_ACK_TIMEOUT = '30s';
/** Duplicate window for a stream this destination creates: well past the one-minute claim expiry. */
const DEFAULT_DUPLICATE_WINDOW = '1h';

export const natsOptions = z
  .object({
    type: z.literal('nats'),
    servers: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
      .describe('One server or a list, e.g. `nats://127.0.0.1:4222`; `nats://user:password@host` logs in with those and is shown without them.'),
    subject: z
      .string()
      .min(1)
      .regex(/^[^\s*>]+$/, 'a subject has no spaces and no wildcards (* or >)')
      .describe("Subject to publish on; `{connection}` (dots become `_`) and `{kind}` are replaced by the message's."),
    stream: z.string().min(1).optional().describe('The stream expected to store the messages: its name is checked on every PubAck.'),
    createStream: z.boolean().default(false).describe('Create `stream` (file storage, subjects from `subject`) when it does not exist.'),
    duplicateWindow: duration
      .prefault(DEFAULT_DUPLICATE_WINDOW)
      .describe('Duplicate window of a stream this destination creates (`Nats-Msg-Id` dedup); for an existing stream check its own.'),
    format: formatOption,
    maxMessageBytes: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("Largest message to publish; the server's `max_payload` (1 MB unless configured) caps it too."),
    username: z.string().min(1).optional().describe('User name to log in with (with `password`).'),
    password: z.string().min(1).optional().describe('Password for `username`.'),
    token: z.string().min(1).optional().describe('Token to log in with, instead of a user name and password.'),
    tls: z
      .union([
        z.literal(true),
        z
          .object({
            ca: z.string().min(1).optional().describe(CA_DESCRIPTION),
            rejectUnauthorized: z
              .boolean()
              .default(true)
              .describe('Verify the server certificate (default). Turn off only for a server you trust on a network you trust.'),
          })
          .strict(),
      ])
      .optional()
      .describe('Require TLS: `true`, or `{ ca, rejectUnauthorized }`; a server that does not offer TLS is refused, never used in plain text.'),
    timeout: duration.prefault(DEFAULT_ACK_TIMEOUT).describe('Waiting for the connection and the PubAck; then the attempt is retried.'),
  })
  .strict()
  .refine((o) => !o.createStream || o.stream !== undefined, { message: 'createStream needs stream: the name of the stream to create', path: ['stream'] });

export type NatsOptions = z.infer<typeof natsOptions>;
