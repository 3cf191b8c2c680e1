/** The webhook destination's options, as the config file, the API and the UI take them. */
import { z } from 'zod';
import { isLoopback } from '../../net/https.ts';
import { duration } from '../duration.ts';
import { formatOption } from './format-option.ts';

/** Enough for the fields that identify the content, which a shortened envelope always keeps. */
const MIN_ENVELOPE_HEADER_BYTES = 1024;
/** The default cap of `Postroom-Envelope`, well under the 8 KB that the strictest common servers allow for all headers. */
export const DEFAULT_MAX_ENVELOPE_HEADER_BYTES = 4096;

/** Silence from the receiver (nothing sent or received) before an attempt is abandoned. */
export const DEFAULT_WEBHOOK_TIMEOUT = '30s';
/**
 * Headers Postroom sets itself; `headers` may not override them (the signature, the id or the
 * envelope would lie).
 */
export const OWN_HEADERS = [
  'content-type',
  'content-length',
  'idempotency-key',
  'postroom-envelope',
  'postroom-envelope-shortened',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'traceparent',
  'tracestate',
];

/** Standard Webhooks: "secret keys SHOULD be between 24 bytes (192 bits) and 64 bytes (512 bits)". */
const SECRET_MIN_BYTES = 24;
const SECRET_MAX_BYTES = 64;
const WHSEC = /^whsec_([A-Za-z0-9+/]+={0,2})$/;
const MAKE_ONE = 'make one with: echo "whsec_$(openssl rand -base64 32)"';

/** The HMAC key of a `whsec_` secret: the base64 after the prefix, decoded. */
export function secretKey(secret: string): Buffer {
  return Buffer.from(WHSEC.exec(secret)?.[1] ?? '', 'base64');
}

const standardSecret = z
  .string()
  .regex(WHSEC, `a webhook secret is a Standard Webhooks secret: whsec_ and base64 of ${SECRET_MIN_BYTES} to ${SECRET_MAX_BYTES} random bytes; ${MAKE_ONE}`)
  .refine((secret) => {
    const bytes = secretKey(secret).length;
    return bytes >= SECRET_MIN_BYTES && bytes <= SECRET_MAX_BYTES;
  }, `the secret after whsec_ must decode to ${SECRET_MIN_BYTES} to ${SECRET_MAX_BYTES} bytes; ${MAKE_ONE}`);

export const webhookOptions = z
  .object({
    type: z.literal('webhook'),
    url: z
      .string()
      .url('give the URL to POST pipeline messages to, e.g. https://example.com/hooks/postroom')
      // Checks go on after a failed .url(): one it refused is its to name, not a TypeError's.
      .refine((url) => !URL.canParse(url) || /^https?:$/.test(new URL(url).protocol), 'the webhook URL must be http:// or https://')
      .describe('Where to POST each pipeline message; `https://`, or `http://` to loopback (see `allowInsecureHttp`).'),
    secret: z
      .union([standardSecret, z.array(standardSecret).min(1)])
      .optional()
      .describe(
        'Standard Webhooks signing secret (`whsec_` and base64 of 24 to 64 random bytes), or a list while rotating: one signature per secret. No `webhook-signature` without it.',
      ),
    headers: z
      .record(z.string(), z.string())
      .default({})
      .refine(
        (headers) => !Object.keys(headers).some((name) => OWN_HEADERS.includes(name.toLowerCase()) || name.toLowerCase().startsWith('ce-')),
        `headers may not set ${OWN_HEADERS.join(', ')} or ce-*: Postroom sets those`,
      )
      .describe('Extra request headers, e.g. `Authorization: Bearer ${RECEIVER_TOKEN}`; not the ones Postroom sets.'),
    format: formatOption,
    envelope: z
      .enum(['header', 'body'], { error: () => 'envelope is header or body' })
      .default('header')
      .describe(
        '`header`: the envelope in `Postroom-Envelope`, shortened to fit `maxEnvelopeHeaderBytes`; `body`: a multipart/form-data body, the whole envelope as its first part (needs `format: raw`).',
      ),
    maxEnvelopeHeaderBytes: z
      .number()
      .int()
      .min(MIN_ENVELOPE_HEADER_BYTES, `maxEnvelopeHeaderBytes is at least ${MIN_ENVELOPE_HEADER_BYTES}`)
      .default(DEFAULT_MAX_ENVELOPE_HEADER_BYTES)
      .describe(
        'Largest `Postroom-Envelope` header; a bigger envelope is shortened to fit, recipients first, and `Postroom-Envelope-Shortened: true` says so.',
      ),
    timeout: duration
      .prefault(DEFAULT_WEBHOOK_TIMEOUT)
      .describe('Longest silence from the receiver during an attempt (connecting, sending, waiting for the answer); then the attempt is retried.'),
    allowInsecureHttp: z.boolean().optional().describe('Allow plain `http://` to a host that is not loopback (emails then cross the network unencrypted).'),
  })
  .strict()
  .refine((options) => options.envelope === 'header' || options.format === 'raw', {
    path: ['envelope'],
    message: 'envelope: body needs format: raw (a CloudEvent has the content as its body); leave envelope out, or use format: raw',
  })
  .refine((options) => options.allowInsecureHttp || !isPlainHttpOffLoopback(options.url), {
    path: ['url'],
    message: 'plain http:// is allowed only to loopback (127.0.0.1, ::1, localhost): use https://, or set allowInsecureHttp: true to send emails unencrypted',
  });

function isPlainHttpOffLoopback(url: string): boolean {
  if (!URL.canParse(url)) return false;
  const parsed = new URL(url);
  return parsed.protocol === 'http:' && !isLoopback(parsed.hostname.replace(/^\[(.*)\]$/, '$1'));
}

export type WebhookOptions = z.infer<typeof webhookOptions>;

/** The secrets as a list, newest first as written. */
export function webhookSecrets(options: Pick<WebhookOptions, 'secret'>): string[] {
  if (options.secret === undefined) return [];
  return Array.isArray(options.secret) ? options.secret : [options.secret];
}
