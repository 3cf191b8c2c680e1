/**
 * Response shapes of the REST API, as zod schemas: the TypeScript types of the handlers and the
 * OpenAPI document both come from here. Request bodies use the config's own schemas
 * (src/config/schema.ts), so a connection is validated the same way in postroom.yaml and here.
 */
import { z } from 'zod';
import { CONTROL_ACTIONS } from '../store/store.ts';
import { CONNECTION_STATES, DELIVERY_STATES, REPLAY_OUTCOMES } from './connection-states.ts';
import { DELIVERY_OUTCOMES, EMAIL_STATES, TRAIL_EVENTS } from './trail-words.ts';

const time = z.string().meta({ format: 'date-time' });

export const fieldIssueSchema = z.object({ path: z.string(), message: z.string() });

export const errorSchema = z
  .object({
    error: z.string().meta({ description: 'Stable error code from the catalogue' }),
    message: z.string(),
    issues: z.array(fieldIssueSchema).optional(),
  })
  .meta({ id: 'Error' });

export const connectionViewSchema = z
  .object({
    name: z.string(),
    hostType: z.string(),
    enabled: z.boolean(),
    source: z.enum(['config', 'api']).meta({ description: 'config: from postroom.yaml (read-only here); api: stored, editable' }),
    readOnly: z.boolean(),
    problem: z.string().optional().meta({ description: 'Why a stored connection is not polled (it no longer validates)' }),
    warnings: z
      .array(z.string())
      .meta({ description: 'What is risky though valid, as `postroom validate` says it: a password sent unencrypted, certificate checks off' }),
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

const deliveryHealthSchema = z.object({
  state: z.enum(DELIVERY_STATES).meta({ description: 'ok: nothing failed; retrying: some messages wait for a quick retry; failing: some are dead letters' }),
  retrying: z.number(),
  deadLetters: z.number(),
  lastError: z.string().nullable().meta({ description: 'The error of the latest failed delivery attempt among the undelivered messages' }),
  lastErrorAt: time.nullable(),
});

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
  filtered: z
    .record(z.string(), z.number())
    .meta({ description: "Emails the connection's filter left out, per deciding condition (from, subject, maxSize, autoReplies, …)" }),
  consecutiveFailures: z.number(),
  lastError: z.string().nullable(),
  lastSuccessfulPollAt: time.nullable().meta({ description: 'When a poll last read the mailbox (a throttled wait does not count)' }),
  polling: z.object({ since: time, holder: z.string() }).nullable().meta({ description: 'A poll is running now (on this or another worker)' }),
  paused: z.object({ by: z.string(), at: time }).nullable().meta({ description: 'Paused by an operator: no worker polls it, its lease is free' }),
  delivery: deliveryHealthSchema.meta({ description: "How delivery of this connection's pipeline messages stands" }),
  graph: z
    .object({
      requestsInWindow: z.number().meta({ description: "Requests counted against the mailbox's budget in its current window, by every worker" }),
      requestBudget: z.number().meta({ description: 'Requests the budget allows per window (Microsoft: 10,000 per 10 minutes); Postroom keeps 5% under it' }),
      windowSeconds: z.number(),
      backlog: z
        .number()
        .nullable()
        .meta({ description: 'Unread emails the last listing said were waiting, less those its page then took; null: not listed yet' }),
      backlogAt: time.nullable(),
      emailsPerMinute: z.number().meta({ description: 'Emails picked up per minute over the last 10 minutes' }),
    })
    .nullable()
    .meta({ description: "Graph connections only: how the mailbox's request budget and backlog stand" }),
});

export type ConnectionStatus = z.infer<typeof connectionStatusSchema>;

export const statusSchema = z
  .object({
    now: time,
    connections: z.array(connectionStatusSchema),
    totals: z.object({ connections: z.number(), failing: z.number(), throttled: z.number(), outbox: z.number(), deadLetters: z.number() }),
    destinations: z
      .array(deliveryHealthSchema.extend({ name: z.string(), type: z.string() }))
      .meta({ description: 'Per configured destination: how delivery to it stands' }),
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
    email: z.string().meta({
      description: "The email it was made from: its id in the trail (GET /api/emails/{id}); an email's dead letters share it and are listed side by side",
    }),
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

/** Which dead letters a replay or a discard of several takes: these ids, or every dead letter of one email (or both). */
export const deadLetterSelectionSchema = z
  .object({
    ids: z.array(z.string().min(1)).min(1).max(1000).optional().meta({ description: 'Dead letter ids' }),
    email: z.string().min(1).optional().meta({ description: "An email's id (the `email` of a dead letter): every dead letter made from it" }),
  })
  .refine((selection) => selection.ids !== undefined || selection.email !== undefined, { message: 'give ids or an email' })
  .meta({ id: 'DeadLetterSelection' });

export const discardResultSchema = z
  .object({
    discarded: z.number().meta({ description: 'Dead letters given up on for good' }),
    ids: z.array(z.string()).meta({ description: 'The ids discarded' }),
    notDiscarded: z
      .array(z.string())
      .meta({ description: 'Asked for but not discarded: no dead letter has that id (any more), or a worker is delivering it right now' }),
  })
  .meta({ id: 'DiscardResult' });

export type DiscardResult = z.infer<typeof discardResultSchema>;

export const replayResultSchema = z
  .object({
    replayed: z.number().meta({ description: 'Pipeline messages tried again' }),
    delivered: z.number(),
    failed: z.number(),
    results: z.array(
      z.object({
        id: z.string(),
        outcome: z.enum(REPLAY_OUTCOMES).meta({
          description:
            'delivered: the destination has it now; failed: it failed again (see error, nextAttemptAt); queued: due now, a worker delivers it; not-found: no longer in the outbox; content-gone: delivered before, and its content is no longer kept (outbox.keepDeliveredContent)',
        }),
        error: z.string().nullable(),
        nextAttemptAt: time.nullable().meta({ description: 'After a failure: the next scheduled attempt (null: only a replay will try again)' }),
        attempts: z.number(),
      }),
    ),
  })
  .meta({ id: 'ReplayResult' });

export type ReplayResult = z.infer<typeof replayResultSchema>;

export const destinationListSchema = z.array(z.object({ name: z.string(), type: z.string() })).meta({ id: 'Destinations' });

export const destinationReloadSchema = z
  .object({
    file: z.string().meta({ description: 'The config file that was read again' }),
    changed: z
      .array(
        z.object({
          name: z.string(),
          type: z.string(),
          fields: z.array(z.string()).meta({ description: 'The options whose values changed (names only, never values)' }),
        }),
      )
      .meta({ description: 'Destinations whose new settings the next delivery uses' }),
    unchanged: z.array(z.string()).meta({ description: 'Destinations whose settings are as before' }),
    notApplied: z
      .array(
        z.object({
          name: z.string().meta({ description: 'A destination, or a config section such as `connections`' }),
          reason: z.string(),
        }),
      )
      .meta({ description: 'What the file changed that a running service does not apply: restart `postroom run` for it' }),
    warnings: z.array(z.string()).meta({ description: 'What `postroom validate` warns of in the file' }),
  })
  .meta({ id: 'DestinationReload' });
export type DestinationReload = z.infer<typeof destinationReloadSchema>;

export const healthSchema = z.object({ status: z.enum(['ok', 'unavailable']), store: z.string() }).meta({ id: 'Health' });

export const pollResultSchema = z
  .object({
    connection: z.string(),
    outcome: z
      .enum(['done', 'failed', 'throttled', 'leased-elsewhere', 'queued'])
      .meta({ description: 'leased-elsewhere: another worker holds the lease and polls it now; queued: due now, a worker polls it' }),
    emails: z.number(),
    messages: z.number(),
    error: z.string().nullable(),
    holder: z.string().nullable().meta({ description: 'leased-elsewhere: the worker that holds the lease' }),
    until: time.nullable().meta({ description: 'throttled: when reading resumes' }),
  })
  .meta({ id: 'PollResult' });

export const pauseResultSchema = z.object({ connection: z.string(), paused: z.object({ by: z.string(), at: time }).nullable() }).meta({ id: 'PauseResult' });

export const emailViewSchema = z
  .object({
    id: z
      .string()
      .meta({ description: "The email's id in the trail (GET /api/emails/{id}, `postroom trace --email`): its connection and source key, base64url" }),
    connection: z.string(),
    sourceKey: z.string().meta({ description: 'Where the email is on its server, e.g. imap:INBOX:1712345678:42' }),
    messageId: z.string().nullable(),
    from: z.string().nullable(),
    subject: z.string().nullable(),
    sentAt: time.nullable().meta({ description: 'The Date header' }),
    size: z.number().nullable().meta({ description: 'Bytes, as the server reported them' }),
    pickedUpAt: time.meta({ description: 'When Postroom took it (or, filtered, left it out)' }),
    acknowledgedAt: time.nullable(),
    acknowledgement: z
      .string()
      .nullable()
      .meta({ description: 'What the server was asked to do with it: "marked read", "moved to Processed", "deleted from the server"' }),
    state: z.enum(EMAIL_STATES).meta({
      description:
        'delivered: every pipeline message delivered (or forgotten after outbox.keepDelivered); pending: not tried yet; retrying: waits for a retry after a failure; dead: a dead letter among them; filtered: the filter left it out',
    }),
    filtered: z
      .object({ condition: z.string(), reason: z.string() })
      .optional()
      .meta({ description: 'Filtered only: the condition that left it out, and why' }),
    messages: z.number().meta({ description: 'Its pipeline messages still in the outbox' }),
  })
  .meta({ id: 'Email' });

export type EmailView = z.infer<typeof emailViewSchema>;

export const emailListSchema = z
  .object({
    emails: z.array(emailViewSchema).meta({ description: 'Newest first, at most `limit`' }),
    more: z.boolean().meta({ description: 'More emails match after these' }),
    next: z.string().nullable().meta({ description: 'When more match: pass it as `after`, with the same search, for the next page; null on the last page' }),
  })
  .meta({ id: 'EmailList' });

export const emailTrailViewSchema = z
  .object({
    email: emailViewSchema,
    messages: z.array(
      z.object({
        id: z.string().meta({ description: "The pipeline message (outbox) id; a dead letter's id in /api/dead-letters" }),
        kind: z.string(),
        filename: z.string(),
        contentType: z.string(),
        size: z.number(),
        sha256: z.string(),
        destination: z.string(),
        state: z.enum(['pending', 'delivered', 'dead', 'discarded']).meta({ description: 'discarded: a dead letter an operator gave up on' }),
        attempts: z.number().meta({ description: 'Failed attempts so far (a delivery on the first try leaves 0)' }),
        lastError: z.string().nullable(),
        nextAttemptAt: time.nullable(),
        deliveredAt: time.nullable(),
        contentKeptUntil: time.nullable().meta({
          description:
            'Delivered: its content is kept until then (outbox.keepDeliveredContent), so POST /api/pipeline-messages/{id}/replay can send it again; null when it is gone',
        }),
      }),
    ),
    attempts: z.array(
      z.object({
        messageId: z.string().meta({ description: 'The pipeline message (outbox) id' }),
        destination: z.string(),
        at: time,
        outcome: z.enum(DELIVERY_OUTCOMES),
        detail: z.string().nullable().meta({ description: "The error, the destination's reply, or who asked for the replay or the discard" }),
      }),
    ),
    timeline: z
      .array(
        z.object({
          at: time,
          event: z.enum(TRAIL_EVENTS),
          detail: z.string().nullable(),
          destination: z.string().optional(),
          messageId: z.string().optional().meta({ description: 'Delivery events: the pipeline message (outbox) id' }),
        }),
      )
      .meta({ description: 'The pickup, the filter, the acknowledgement and every delivery attempt, in time order' }),
  })
  .meta({ id: 'EmailTrail' });

export type EmailTrailView = z.infer<typeof emailTrailViewSchema>;
export const POLL_OUTCOMES = Object.freeze(['ok', 'failed', 'throttled'] as const);

export const pollHistorySchema = z
  .object({
    connection: z.string(),
    polls: z.array(
      z.object({
        startedAt: time,
        finishedAt: time,
        durationMs: z.number(),
        emails: z.number(),
        messages: z.number(),
        outcome: z.enum(POLL_OUTCOMES).meta({ description: 'throttled: the provider asked for a pause; the mailbox was not read' }),
        error: z.string().nullable(),
        errorCode: z.string().nullable().meta({ description: 'Stable error code from the catalogue' }),
        hint: z.string().nullable().meta({ description: 'What usually helps with this error code' }),
        holder: z.string().meta({ description: 'The worker that polled: host:process id:random' }),
        throttledUntil: time
          .nullable()
          .meta({ description: 'throttled: when reading went on (the next poll) or, for the latest wait, when it ends; null when not known' }),
        askedBy: z.string().nullable().meta({
          description: 'An operator asked for this poll (poll now; it is the next poll after the request): who, e.g. "API from 127.0.0.1", "CLI (alice)"',
        }),
      }),
    ),
    lease: z.object({ holder: z.string(), until: time }).nullable().meta({ description: 'The worker reading the connection now, and until when' }),
    throttle: z
      .object({ until: time, reason: z.string(), since: time })
      .nullable()
      .meta({ description: "The connection's account is throttled now: why, since when, until when" }),
  })
  .meta({ id: 'PollHistory', description: "A connection's latest polls, newest first" });

export type PollHistory = z.infer<typeof pollHistorySchema>;

export const connectionActivitySchema = z
  .object({
    connection: z.string(),
    start: time,
    bucketMs: z.number(),
    emails: z.array(z.number()).meta({ description: 'Emails picked up per bucket, oldest first' }),
    messages: z.array(z.number()).meta({ description: 'Pipeline messages produced per bucket, oldest first' }),
  })
  .meta({ id: 'ConnectionActivity', description: "One connection's hourly counts over the last 24 h, for the plot" });

export type ConnectionActivity = z.infer<typeof connectionActivitySchema>;

export const connectionControlsSchema = z
  .object({
    connection: z.string(),
    controls: z.array(
      z.object({
        at: time,
        action: z.enum(CONTROL_ACTIONS).meta({ description: 'pause, resume, or poll (poll now)' }),
        by: z.string().meta({ description: 'Who: "API from <address>" (the web UI too) or "CLI (<user name>)"' }),
        polledAt: time.nullable().meta({ description: 'poll: when the poll it caused started; null until then (or once that poll is no longer kept)' }),
      }),
    ),
  })
  .meta({ id: 'ConnectionControls', description: "A connection's operator controls of the last 24 h (as long as its polls are kept), newest first" });

export type ConnectionControls = z.infer<typeof connectionControlsSchema>;
