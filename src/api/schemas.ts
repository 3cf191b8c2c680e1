/**
 * Response shapes of the REST API, as zod schemas: the TypeScript types of the handlers and the
 * OpenAPI document both come from here. Request bodies use the config's own schemas
 * (src/config/schema.ts), so a connection is validated the same way in postroom.yaml and here.
 */
import { z } from 'zod';
import { CONNECTION_STATES } from './connection-states.ts';

const time = z.string().meta({ format: 'date-time' });

export const fieldIssueSchema = z.object({ path: z.string(), message: z.string() });

export const errorSchema = z
  .object({ error: z.string().meta({ description: 'Stable error code from the catalogue' }), message: z.string(), issues: z.array(fieldIssueSchema).optional() })
  .meta({ id: 'Error' });

export const connectionViewSchema = z
  .object({
    name: z.string(),
    hostType: z.string(),
    enabled: z.boolean(),
    source: z.enum(['config', 'api']).meta({ description: 'config: from postroom.yaml (read-only here); api: stored, editable' }),
    readOnly: z.boolean(),
    problem: z.string().optional().meta({ description: 'Why a stored connection is not polled (it no longer validates)' }),
    warnings: z.array(z.string()).meta({ description: 'What is risky though valid, as `postroom validate` says it: a password sent unencrypted, certificate checks off' }),
    passwordSet: z.boolean().optional().meta({ description: 'A password is stored; passwords are never sent back' }),
    clientSecretSet: z.boolean().optional(),
  })
  .catchall(z.unknown())
  .meta({ id: 'Connection', description: 'A connection with every setting except secrets' });

export type ConnectionView = z.infer<typeof connectionViewSchema>;

export const checkResultSchema = z
  .object({
    connection: z.string(),
    ok: z.boolean(),
    steps: z.array(z.object({ step: z.string(), ok: z.boolean(), detail: z.string() })),
  })
  .meta({ id: 'CheckResult' });

export type CheckResult = z.infer<typeof checkResultSchema>;

export const connectionStatusSchema = z.object({
  name: z.string(),
  hostType: z.string(),
  enabled: z.boolean(),
  source: z.enum(['config', 'api']),
  state: z.enum(CONNECTION_STATES),
  lastPoll: z
    .object({ at: time, ok: z.boolean(), emails: z.number(), messages: z.number(), durationMs: z.number(), holder: z.string(), error: z.string().nullable() })
    .nullable(),
  nextPollAt: time.nullable(),
  lease: z.object({ holder: z.string(), until: time }).nullable(),
  throttle: z.object({ until: time, reason: z.string() }).nullable(),
  outbox: z.number(),
  deadLetters: z.number(),
  emailsTotal: z.number(),
  messagesTotal: z.number(),
  consecutiveFailures: z.number(),
  lastError: z.string().nullable(),
  graph: z
    .object({
      requestsInWindow: z.number().meta({ description: 'Requests counted against the mailbox\'s budget in its current window, by every worker' }),
      requestBudget: z.number().meta({ description: 'Requests the budget allows per window (Microsoft: 10,000 per 10 minutes); Postroom keeps 5% under it' }),
      windowSeconds: z.number(),
      backlog: z.number().nullable().meta({ description: 'Unread emails the last listing said were waiting, less those its page then took; null: not listed yet' }),
      backlogAt: time.nullable(),
      emailsPerMinute: z.number().meta({ description: 'Emails picked up per minute over the last 10 minutes' }),
    })
    .nullable()
    .meta({ description: 'Graph connections only: how the mailbox\'s request budget and backlog stand' }),
});

export type ConnectionStatus = z.infer<typeof connectionStatusSchema>;

export const statusSchema = z
  .object({
    now: time,
    connections: z.array(connectionStatusSchema),
    totals: z.object({ connections: z.number(), failing: z.number(), throttled: z.number(), outbox: z.number(), deadLetters: z.number() }),
    activity: z
      .object({
        start: time,
        bucketMs: z.number(),
        emails: z.array(z.number()).meta({ description: 'Emails picked up per bucket, oldest first' }),
        messages: z.array(z.number()).meta({ description: 'Pipeline messages produced per bucket, oldest first' }),
      })
      .meta({ description: 'Per-minute counts over the last hours, for the plot' }),
  })
  .meta({ id: 'Status' });

export type StatusReport = z.infer<typeof statusSchema>;

export const deadLetterSchema = z
  .object({
    id: z.string(),
    connection: z.string(),
    destination: z.string(),
    kind: z.string(),
    filename: z.string(),
    contentType: z.string(),
    size: z.number(),
    subject: z.string().nullable(),
    from: z.string().nullable(),
    attempts: z.number(),
    nextAttemptAt: time.nullable().meta({ description: 'null: only a manual replay will try again' }),
    lastError: z.string().nullable(),
    createdAt: time,
  })
  .meta({ id: 'DeadLetter' });

export type DeadLetterView = z.infer<typeof deadLetterSchema>;

export const deadLetterDetailSchema = deadLetterSchema
  .extend({ envelope: z.record(z.string(), z.unknown()), rawAvailable: z.boolean() })
  .meta({ id: 'DeadLetterDetail' });

export const replayResultSchema = z.object({ replayed: z.number() }).meta({ id: 'ReplayResult' });

export const destinationListSchema = z.array(z.object({ name: z.string(), type: z.string() })).meta({ id: 'Destinations' });

export const healthSchema = z.object({ status: z.enum(['ok', 'unavailable']), store: z.string() }).meta({ id: 'Health' });
