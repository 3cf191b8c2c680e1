/**
 * The one schema of Postroom's configuration. The config file, the REST API bodies and the
 * UI's form validation all use these zod schemas; parsing returns a normalised copy
 * (durations in milliseconds, defaults filled in) that the rest of the code trusts.
 */
import { z } from 'zod';
import { DESTINATION_TYPE_NAMES, destinationSchema as schemaOfDestination } from './destination-schemas.ts';
import { duration, formatDuration } from './duration.ts';
import { attachmentsSchema, filteredSchema, filterOnServerSchema, filterSchema, routesSchema } from './filter-schema.ts';
import { oauth2Schema } from './oauth2-schema.ts';
import { singleLine } from './single-line.ts';
import { tlsSchema } from './tls-schema.ts';

/** Seed 000: a failed poll is due again after 60 s, whatever the polling interval. */
export const DEFAULT_RETRY_INTERVAL = '60s';
/** Seed 000 default; short enough to feel live, long enough not to hammer a provider. */
export const DEFAULT_POLLING_INTERVAL = '60s';

/** Undelivered pipeline messages per connection before intake pauses: hours of a busy mailbox, a few GB at most. */
export const DEFAULT_OUTBOX_MAX_PENDING = 10_000;
export const DEFAULT_KEEP_DELIVERED = '7d';
/** Content is removed at delivery unless asked for: keeping it costs the space of every email delivered in the period. */
export const DEFAULT_KEEP_DELIVERED_CONTENT = '0s';
/** Emails larger than this are kept whole (kind original), not split: far above real email, bounded for the parser. */
export const DEFAULT_MAX_EMAIL_BYTES = 100 * 1024 * 1024;
/** Parts split out of one email (body, attachments, TNEF children); the original is kept too beyond it. */
export const DEFAULT_MAX_PARTS_PER_EMAIL = 500;

/** Microsoft's global cloud; national clouds (and tests) set their own. */
export const DEFAULT_GRAPH_ENDPOINT = 'https://graph.microsoft.com';
export const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com';
/** Graph's request limit per app and mailbox (learn.microsoft.com/graph/throttling-limits#outlook-service-limits). */
export const DEFAULT_GRAPH_REQUESTS = 10_000;
export const DEFAULT_GRAPH_REQUEST_WINDOW = '10m';
/** `run --once` waits out a throttle this long at most; a longer one ends the run with exit code 75. */
export const DEFAULT_ONCE_WAIT_MAX = '2m';

/** YAML (and a whole-value ${ENV}) reads `password: 12345` as a number: take it as the text it is. */
const text = z.union([z.string(), z.number()]).transform(String);

const connectionName = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'use letters, digits, dot, dash and underscore, starting with a letter or digit');

/** The `oauth2:` block lives in auth/ so destinations can use it without importing this file. */
export { oauth2Schema } from './oauth2-schema.ts';

const common = {
  name: connectionName,
  enabled: z.boolean().default(true),
  sendAttachments: z.boolean().default(true),
  sendMessageBody: z.boolean().default(true),
  deleteMessages: z.boolean().default(false),
  pollingInterval: duration.prefault(DEFAULT_POLLING_INTERVAL),
  useProcessLock: z.boolean().default(false),
  destination: z.string().min(1).optional(),
  /** Regex (`|` separates alternatives) that marks a server reply as throttling. */
  throttlePattern: z.string().optional(),
  /** `extend` adds throttlePattern to the defaults; `replace` uses it alone. */
  throttlePatternMode: z.enum(['extend', 'replace']).default('extend'),
  /** A fixed wait when throttled without a wait from the server; else exponential backoff. */
  throttleLatency: duration.optional(),
  /** Bytes; a larger email is kept whole as kind original, not split. Default: limits.maxEmailBytes. */
  maxEmailBytes: z.number().int().positive().optional(),
  /** Parts split out of one email at most; beyond it the original is kept as well. Default: limits.maxPartsPerEmail. */
  maxPartsPerEmail: z.number().int().positive().optional(),
  /** Which emails are taken; the others are never emitted (filter-schema.ts). */
  filter: filterSchema.optional(),
  filtered: filteredSchema,
  /** IMAP: pre-select with the server's SEARCH (sources/imap/server-search.ts); default on where it may be. */
  filterOnServer: filterOnServerSchema,
  /** Which attachments become pipeline messages (globs, `!` excludes); default all. */
  attachments: attachmentsSchema.optional(),
  /** First match wins; the rest go to `destination`. */
  routes: routesSchema.default([]),
};

const mailServer = {
  host: singleLine(z.string().min(1, 'give the mail server host name, e.g. imap.example.com'), 'host'),
  port: z.number().int().min(1).max(65535).optional(),
  useSsl: z.boolean().default(true),
  /** Upgrade a plain connection with STARTTLS / STLS. Ignored when useSsl is on. */
  startTls: z.boolean().default(false),
  username: text.pipe(singleLine(z.string().min(1), 'username')),
  password: text.pipe(singleLine(z.string(), 'password')).optional(),
  oauth2: oauth2Schema.optional(),
  tls: tlsSchema.prefault({}),
  connectTimeout: duration.prefault('30s'),
};

export const imapConnectionSchema = z
  .object({
    ...common,
    hostType: z.literal('imap'),
    ...mailServer,
    folder: singleLine(z.string().min(1), 'folder').default('INBOX'),
    /** Move acknowledged emails into this folder instead of only flagging them. */
    moveTo: singleLine(z.string().min(1), 'moveTo').optional(),
    /** Wake on new mail with IMAP IDLE where the server has it (polling stays the fallback). */
    idle: z.boolean().default(true),
    /** Re-issue IDLE this often: well under RFC 2177's 29 minutes and the shorter cut-offs some servers and NATs use. */
    idleRestart: duration.prefault('5m'),
  })
  .strict();

export const pop3ConnectionSchema = z
  .object({
    ...common,
    hostType: z.literal('pop3'),
    ...mailServer,
  })
  .strict();

export const graphConnectionSchema = z
  .object({
    ...common,
    hostType: z.literal('graph'),
    tenantId: singleLine(z.string().min(1), 'tenantId'),
    clientId: singleLine(z.string().min(1), 'clientId'),
    clientSecret: singleLine(z.string(), 'clientSecret').optional(),
    certificate: z
      .object({ thumbprint: singleLine(z.string(), 'thumbprint'), privateKey: z.string() })
      .strict()
      .optional(),
    mailbox: singleLine(z.string().min(1), 'mailbox'),
    folder: singleLine(z.string().min(1), 'folder').default('inbox'),
    moveTo: singleLine(z.string().min(1), 'moveTo').optional(),
    graphEndpoint: z.string().url().default(DEFAULT_GRAPH_ENDPOINT),
    authorityHost: z.string().url().default(DEFAULT_AUTHORITY_HOST),
    tls: tlsSchema.prefault({}),
    /**
     * The requests Graph allows this app on this mailbox per window; Postroom counts every
     * request in the store and keeps 5% under it. Microsoft's limit: 10,000 per 10 minutes.
     */
    requestBudget: z
      .object({ requests: z.number().int().positive().default(DEFAULT_GRAPH_REQUESTS), window: duration.prefault(DEFAULT_GRAPH_REQUEST_WINDOW) })
      .strict()
      .prefault({}),
  })
  .strict();

function checkCredentials(connection: { hostType: string; password?: string | undefined; oauth2?: unknown }, ctx: z.RefinementCtx): void {
  if ((connection.hostType === 'imap' || connection.hostType === 'pop3') && !connection.password && !connection.oauth2) {
    ctx.addIssue({ code: 'custom', path: ['password'], message: 'give a password (e.g. password: ${MY_PASSWORD}) or an oauth2 block' });
  }
}

/** What a filter may ask of the server, and a size range that can hold an email. */
function checkFilter(
  connection: {
    hostType: string;
    filtered: z.output<typeof filteredSchema>;
    filterOnServer?: boolean | undefined;
    filter?: { minSize?: number | undefined; maxSize?: number | undefined } | undefined;
  },
  ctx: z.RefinementCtx,
): void {
  if (connection.hostType === 'pop3' && connection.filtered !== 'leave' && connection.filtered !== 'delete') {
    ctx.addIssue({
      code: 'custom',
      path: ['filtered'],
      message: 'POP3 has no read flag and no folders: use filtered: leave (the email stays on the server) or filtered: delete',
    });
  }
  if (connection.filterOnServer === true && connection.hostType !== 'imap') {
    ctx.addIssue({
      code: 'custom',
      path: ['filterOnServer'],
      message:
        connection.hostType === 'graph'
          ? "only IMAP pre-selects on the server: Graph's listing already reads the fields the filter needs, so every email is judged without a download; remove filterOnServer"
          : 'only IMAP pre-selects on the server: POP3 has no search; remove filterOnServer',
    });
  } else if (connection.filterOnServer === true && connection.filtered !== 'leave') {
    ctx.addIssue({
      code: 'custom',
      path: ['filterOnServer'],
      message:
        "needs filtered: leave: an email the server's SEARCH leaves out is never judged by Postroom, so it must not be marked read, moved or deleted on the server's word; set filtered: leave, or remove filterOnServer (with markRead, moveTo or delete Postroom judges every email itself)",
    });
  }
  const { minSize, maxSize } = connection.filter ?? {};
  if (minSize !== undefined && maxSize !== undefined && minSize > maxSize) {
    ctx.addIssue({
      code: 'custom',
      path: ['filter', 'minSize'],
      message: `minSize (${minSize} bytes) is above maxSize (${maxSize} bytes): no email could be taken; lower minSize or raise maxSize`,
    });
  }
}

export const connectionSchema = z
  .discriminatedUnion('hostType', [imapConnectionSchema, pop3ConnectionSchema, graphConnectionSchema], {
    error: (issue) => (issue.code === 'invalid_union' ? 'hostType must be one of imap, pop3, graph' : undefined),
  })
  .superRefine(checkCredentials)
  .superRefine(checkFilter)
  .transform((connection) => {
    if (connection.hostType === 'graph') return connection;
    const port = connection.port ?? defaultPort(connection.hostType, connection.useSsl);
    // Seed 000: POP3 always deletes, the protocol has no read flag.
    const deleteMessages = connection.hostType === 'pop3' ? true : connection.deleteMessages;
    return { ...connection, port, deleteMessages };
  });

export function defaultPort(hostType: 'imap' | 'pop3', useSsl: boolean): number {
  if (hostType === 'imap') return useSsl ? 993 : 143;
  return useSsl ? 995 : 110;
}

export type ConnectionInput = z.input<typeof connectionSchema>;
export type ConnectionConfig = z.output<typeof connectionSchema>;
export type ImapConnectionConfig = Extract<ConnectionConfig, { hostType: 'imap' }>;
export type Pop3ConnectionConfig = Extract<ConnectionConfig, { hostType: 'pop3' }>;
export type GraphConnectionConfig = Extract<ConnectionConfig, { hostType: 'graph' }>;

export const destinationSchema = z
  .object({ type: z.string() })
  .passthrough()
  .transform((value, ctx) => {
    const schema = schemaOfDestination(value.type);
    if (!schema) {
      ctx.addIssue({ code: 'custom', path: ['type'], message: `unknown destination type "${value.type}"; use one of ${DESTINATION_TYPE_NAMES.join(', ')}` });
      return z.NEVER;
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, code: 'custom', path: issue.path } as never);
      return z.NEVER;
    }
    return parsed.data as { type: string } & Record<string, unknown>;
  });

export type DestinationConfig = z.output<typeof destinationSchema>;

export const apiSchema = z
  .object({
    listen: z.string().default('127.0.0.1:8025'),
    token: z.string().optional(),
    enabled: z.boolean().default(true),
    /** Serve the API over HTTPS: paths to PEM files, read at start (relative to postroom.yaml). */
    tls: z
      .object({ cert: z.string().min(1), key: z.string().min(1) })
      .strict()
      .optional(),
    /** Let connections created or tested through the API use loopback, link-local and private addresses (a mail server on the LAN). */
    allowPrivateHosts: z.boolean().default(false),
    /** When set, API connections may only use these hosts (globs, e.g. "*.example.com"). */
    allowHosts: z.array(z.string().min(1)).optional(),
  })
  .strict();

export const configSchema = z
  .object({
    /** A directory for the embedded SQLite store and content files, or a postgres:// URL. */
    store: z.string().default('./data'),
    /**
     * Where raw emails and parts wait for delivery. Default: the data directory (SQLite), or
     * the database itself (PostgreSQL, so workers on several machines share it). Set it to a
     * directory every worker mounts to keep large content out of the database.
     */
    contentDir: z.string().optional(),
    destinations: z.record(connectionName, destinationSchema).default({}),
    connections: z.array(connectionSchema).default([]),
    retry: z
      .object({
        /** Seed 000: a failed poll is due again after this, whatever the polling interval. */
        interval: duration.prefault(DEFAULT_RETRY_INTERVAL),
        /** Catastrophic retry schedule for pipeline messages that could not be delivered. */
        deadLetterSchedule: z.array(duration).prefault(['1m', '5m', '30m', '2h', '12h']),
      })
      .strict()
      .prefault({}),
    outbox: z
      .object({
        /**
         * Backpressure: a connection whose undelivered pipeline messages (pending + dead letters)
         * reach this many stops taking emails until deliveries make room, instead of filling the disk.
         */
        maxPending: z.number().int().positive().default(DEFAULT_OUTBOX_MAX_PENDING),
        /**
         * A delivered pipeline message's row (its envelope and its trail) is deleted this long
         * after delivery, so the store does not grow for ever.
         */
        keepDelivered: duration.prefault(DEFAULT_KEEP_DELIVERED),
        /**
         * A delivered pipeline message's content is kept this long, so it can be replayed to its
         * destination (for when a downstream system lost it). 0, the default, removes it at
         * delivery: kept content costs disk (or database) space for every email of the period.
         */
        keepDeliveredContent: duration.prefault(DEFAULT_KEEP_DELIVERED_CONTENT),
      })
      .strict()
      .superRefine((outbox, ctx) => {
        if (outbox.keepDeliveredContent > outbox.keepDelivered)
          ctx.addIssue({
            code: 'custom',
            path: ['keepDeliveredContent'],
            message: `must not be longer than outbox.keepDelivered (${formatDuration(outbox.keepDelivered)}): a message's content is of no use once its row is forgotten; shorten it or lengthen keepDelivered`,
          });
      })
      .prefault({}),
    throttle: z
      .object({
        pattern: z.string().optional(),
        patternMode: z.enum(['extend', 'replace']).default('extend'),
        latency: duration.optional(),
        /**
         * Connections one worker opens to one account at once. Providers count connections per
         * account (Gmail ~15, Exchange fewer, Dovecot's default 10 per user+IP), so staying low
         * keeps Postroom from causing "too many connections" throttling itself.
         */
        maxConnectionsPerAccount: z.number().int().min(1).default(3),
        /**
         * `run --once` waits out a throttle up to this long and goes on; a longer one ends the run
         * cleanly, saying when reading can resume, with exit code 75 (EX_TEMPFAIL).
         */
        onceWaitMax: duration.prefault(DEFAULT_ONCE_WAIT_MAX),
      })
      .strict()
      .prefault({}),
    /** Defaults of the per-connection limits on what one (possibly hostile) email may cost. */
    limits: z
      .object({
        maxEmailBytes: z.number().int().positive().default(DEFAULT_MAX_EMAIL_BYTES),
        maxPartsPerEmail: z.number().int().positive().default(DEFAULT_MAX_PARTS_PER_EMAIL),
      })
      .strict()
      .prefault({}),
    /**
     * Where emails that arrived whole are parsed: on this many worker threads beside the main
     * thread (`auto`: one per core beyond the first two, at most 4; none on 2 cores), or on the
     * main thread (0).
     */
    parsing: z
      .object({
        threads: z
          .union([z.literal('auto'), z.number().int().min(0).max(64)], { error: 'give auto, or a number of threads from 0 (parse on the main thread) to 64' })
          .default('auto'),
      })
      .strict()
      .prefault({}),
    api: apiSchema.prefault({}),
    log: z
      .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info') })
      .strict()
      .prefault({}),
    /**
     * Traces (OpenTelemetry): with `otlp`, or when OTEL_EXPORTER_OTLP_ENDPOINT is set, spans per
     * poll, email and delivery go to an OTLP/HTTP collector; without either nothing is traced.
     */
    telemetry: z
      .object({
        otlp: z
          .object({
            /** The collector's OTLP/HTTP address, e.g. http://127.0.0.1:4318; traces go to <endpoint>/v1/traces. */
            endpoint: z.string().url('give the OTLP/HTTP endpoint, e.g. http://127.0.0.1:4318'),
            /** Extra request headers, e.g. an API key the collector wants. */
            headers: z.record(z.string(), z.string()).default({}),
          })
          .strict()
          .optional(),
        /** `service.name` of the spans. */
        serviceName: z.string().min(1).default('postroom'),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((config, ctx) => {
    const names = new Set<string>();
    config.connections.forEach((connection, index) => {
      if (names.has(connection.name))
        ctx.addIssue({ code: 'custom', path: ['connections', index, 'name'], message: `another connection is already named "${connection.name}"` });
      names.add(connection.name);
      const destinations = Object.keys(config.destinations);
      if (connection.destination === undefined) {
        if (destinations.length !== 1) {
          ctx.addIssue({
            code: 'custom',
            path: ['connections', index, 'destination'],
            message:
              destinations.length === 0
                ? 'add a destination under destinations: and name it here'
                : `say which destination to use: one of ${destinations.join(', ')}`,
          });
        }
      } else if (!config.destinations[connection.destination]) {
        ctx.addIssue({
          code: 'custom',
          path: ['connections', index, 'destination'],
          message: `no destination is named "${connection.destination}"; defined: ${destinations.join(', ') || 'none'}`,
        });
      }
      connection.routes.forEach((route, routeIndex) => {
        if (!config.destinations[route.destination]) {
          ctx.addIssue({
            code: 'custom',
            path: ['connections', index, 'routes', routeIndex, 'destination'],
            message: `no destination is named "${route.destination}"; defined: ${destinations.join(', ') || 'none'}`,
          });
        }
      });
    });
  })
  .transform((config) => {
    // A connection without a destination uses the only one there is.
    const only = Object.keys(config.destinations).length === 1 ? Object.keys(config.destinations)[0] : undefined;
    // A connection without its own limits has the global ones.
    const { maxEmailBytes, maxPartsPerEmail } = config.limits;
    return {
      ...config,
      connections: config.connections.map((c) => ({
        ...c,
        destination: c.destination ?? only!,
        maxEmailBytes: c.maxEmailBytes ?? maxEmailBytes,
        maxPartsPerEmail: c.maxPartsPerEmail ?? maxPartsPerEmail,
      })),
    };
  });

export type ConfigInput = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema>;
