/** The webhook destination's options, as the config file, the API and the UI take them. */
import { z } from 'zod';
import { isLoopback } from '../../net/https.ts';
import { duration } from '../duration.ts';

/** Silence from the receiver (nothing sent or received) before an attempt is abandoned. */
export const DEFAULT_WEBHOOK_TIMEOUT = '30s';
/** Headers Postroom sets itself; `headers` may not override them (the signature would lie). */
const OWN_HEADERS = ['content-type', 'content-length', 'idempotency-key', 'postroom-envelope', 'postroom-timestamp', 'postroom-signature'];

export const webhookOptions = z
  .object({
    type: z.literal('webhook'),
    url: z
      .string()
      .url('give the URL to POST pipeline messages to, e.g. https://example.com/hooks/postroom')
      .refine((url) => /^https?:$/.test(new URL(url).protocol), 'the webhook URL must be http:// or https://'),
    /** Shared secret for the HMAC-SHA256 signature; no signature headers without it. */
    secret: z.string().min(1).optional(),
    /** Extra request headers, e.g. an Authorization header the receiver wants. */
    headers: z
      .record(z.string(), z.string())
      .default({})
      .refine((headers) => !Object.keys(headers).some((name) => OWN_HEADERS.includes(name.toLowerCase())), `headers may not set ${OWN_HEADERS.join(', ')}: Postroom sets those`),
    /** Longest silence from the receiver during an attempt (connecting, sending, waiting for the answer). */
    timeout: duration.prefault(DEFAULT_WEBHOOK_TIMEOUT),
    /** Allow plain http:// to a host that is not loopback (emails then cross the network unencrypted). */
    allowInsecureHttp: z.boolean().optional(),
  })
  .strict()
  .refine((options) => options.allowInsecureHttp || !isPlainHttpOffLoopback(options.url), {
    path: ['url'],
    message: 'plain http:// is allowed only to loopback (127.0.0.1, ::1, localhost): use https://, or set allowInsecureHttp: true to send emails unencrypted',
  });

function isPlainHttpOffLoopback(url: string): boolean {
  const parsed = new URL(url);
  return parsed.protocol === 'http:' && !isLoopback(parsed.hostname.replace(/^\[(.*)\]$/, '$1'));
}

export type WebhookOptions = z.infer<typeof webhookOptions>;
