/**
 * Prometheus metrics (prom-client), labelled by connection, never by email. Counters move through
 * the worker's hooks (onPoll, onDelivery); gauges are read from the store at each scrape, so every
 * worker sharing a store reports the same outbox and throttle picture.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { ConnectionConfig } from '../config/schema.ts';
import type { DeliveryOutcome } from '../engine/delivery.ts';
import type { PollOutcome } from '../engine/poll-connection.ts';
import type { Lease, OutboxMessage, Store } from '../store/store.ts';
import { throttleAccount } from '../throttle/account.ts';
import { graphProgress } from './graph-progress.ts';

/** Poll durations from a quick empty poll to a long first pickup of a full mailbox. */
const POLL_DURATION_BUCKETS_S = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export class PostroomMetrics {
  readonly registry = new Registry();
  private readonly emailsPickedUp = new Counter({
    name: 'postroom_emails_picked_up_total',
    help: 'Emails picked up (committed to the outbox)',
    labelNames: ['connection'],
    registers: [this.registry],
  });
  private readonly messagesProduced = new Counter({
    name: 'postroom_pipeline_messages_produced_total',
    help: 'Pipeline messages written to the outbox',
    labelNames: ['connection'],
    registers: [this.registry],
  });
  private readonly messagesDelivered = new Counter({
    name: 'postroom_pipeline_messages_delivered_total',
    help: 'Pipeline messages delivered to their destination',
    labelNames: ['connection'],
    registers: [this.registry],
  });
  private readonly deliveriesFailed = new Counter({
    name: 'postroom_deliveries_failed_total',
    help: 'Delivery attempts that failed (retried or moved to the dead letters)',
    labelNames: ['connection'],
    registers: [this.registry],
  });
  private readonly deadLettered = new Counter({
    name: 'postroom_dead_lettered_total',
    help: 'Pipeline messages moved to the dead letters (each counted once, however often its retries fail)',
    labelNames: ['connection'],
    registers: [this.registry],
  });
  private readonly polls = new Counter({
    name: 'postroom_polls_total',
    help: 'Polls run by this worker, by outcome',
    labelNames: ['connection', 'outcome'],
    registers: [this.registry],
  });
  private readonly pollDuration = new Histogram({
    name: 'postroom_poll_duration_seconds',
    help: 'How long a poll took',
    labelNames: ['connection'],
    buckets: POLL_DURATION_BUCKETS_S,
    registers: [this.registry],
  });
  private readonly leaseTakeovers = new Counter({
    name: 'postroom_lease_takeovers_total',
    help: "Times a connection's lease passed to another worker, as seen by this process",
    labelNames: ['connection'],
    registers: [this.registry],
  });
  private readonly outboxDepth = new Gauge({
    name: 'postroom_outbox_depth',
    help: 'Pipeline messages waiting for delivery',
    labelNames: ['connection'],
    registers: [this.registry],
  });
  private readonly deadLetters = new Gauge({
    name: 'postroom_dead_letters',
    help: 'Pipeline messages in the dead letters (catastrophic retry)',
    labelNames: ['connection'],
    registers: [this.registry],
  });
  private readonly throttled = new Gauge({
    name: 'postroom_connection_throttled',
    help: "1 while the connection's account is throttled by the provider",
    labelNames: ['connection'],
    registers: [this.registry],
  });
  private readonly needsReauth = new Gauge({
    name: 'postroom_connection_needs_reauth',
    help: "1 while the connection's OAuth2 grant is revoked or expired for good: renew its credentials",
    labelNames: ['connection'],
    registers: [this.registry],
  });
  private readonly sinceSuccessfulPoll = new Gauge({
    name: 'postroom_seconds_since_last_successful_poll',
    help: 'Seconds since a poll last read the mailbox (a throttled wait does not count); counted from this process start when none has yet',
    labelNames: ['connection'],
    registers: [this.registry],
  });
  private readonly pollingInterval = new Gauge({
    name: 'postroom_polling_interval_seconds',
    help: "The connection's polling interval, for alert rules that compare against it",
    labelNames: ['connection'],
    registers: [this.registry],
  });
  private readonly oldestUndelivered = new Gauge({
    name: 'postroom_oldest_undelivered_seconds',
    help: 'Age of the oldest pipeline message not delivered yet (pending or dead letter); 0 when none',
    labelNames: ['connection'],
    registers: [this.registry],
  });
  private readonly paused = new Gauge({
    name: 'postroom_connection_paused',
    help: '1 while an operator has paused the connection',
    labelNames: ['connection'],
    registers: [this.registry],
  });
  private readonly throttledAccounts = new Gauge({
    name: 'postroom_throttled_accounts',
    help: 'Accounts currently throttled by their provider',
    registers: [this.registry],
  });
  private readonly graphRequests = new Gauge({
    name: 'postroom_graph_requests_in_window',
    help: "Graph requests counted against the mailbox's budget in its current window, by every worker",
    labelNames: ['connection'],
    registers: [this.registry],
  });
  private readonly graphBudget = new Gauge({
    name: 'postroom_graph_request_budget',
    help: "Graph requests the mailbox's budget allows per window (Postroom keeps 5% under it)",
    labelNames: ['connection'],
    registers: [this.registry],
  });
  private readonly graphBacklog = new Gauge({
    name: 'postroom_graph_backlog',
    help: 'Unread emails the last Graph listing said were waiting',
    labelNames: ['connection'],
    registers: [this.registry],
  });
  private readonly graphEmailsPerMinute = new Gauge({
    name: 'postroom_graph_emails_per_minute',
    help: 'Emails picked up per minute over the last 10 minutes, by every worker',
    labelNames: ['connection'],
    registers: [this.registry],
  });
  private readonly filtered = new Gauge({
    name: 'postroom_emails_filtered',
    help: "Emails the connection's filter left out, by the condition that decided, as the ledger records them (every worker)",
    labelNames: ['connection', 'condition'],
    registers: [this.registry],
  });
  private readonly filteredByThisProcess = new Counter({
    name: 'postroom_emails_filtered_total',
    help: "Emails the connection's filter left out in polls of this process, by the condition that decided",
    labelNames: ['connection', 'condition'],
    registers: [this.registry],
  });
  private readonly leasesSeen = new Map<string, { holder: string; token: number; released: boolean }>();

  /** When this process began keeping metrics: a connection never read successfully counts from here. */
  private readonly startedAt: number;

  constructor(options: { processMetrics?: boolean; now?: number } = {}) {
    this.startedAt = options.now ?? Date.now();
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** Worker hook: after each poll. */
  readonly onPoll = (connection: string, outcome: PollOutcome, durationMs: number): void => {
    this.polls.inc({ connection, outcome: outcome.status });
    if (outcome.status === 'leased-elsewhere') return;
    this.pollDuration.observe({ connection }, durationMs / 1000);
    // A poll that ended throttled or failed still counts what its pages committed before that.
    const result = outcome.status === 'done' || outcome.status === 'failed' || outcome.status === 'throttled' ? outcome.result : undefined;
    if (result) {
      this.emailsPickedUp.inc({ connection }, result.emails);
      this.messagesProduced.inc({ connection }, result.messages);
      for (const [condition, emails] of Object.entries(result.filteredBy ?? {})) this.filteredByThisProcess.inc({ connection, condition }, emails);
    }
  };

  /** Worker hook: after each delivery attempt. */
  readonly onDelivery = (outcome: DeliveryOutcome, message: OutboxMessage): void => {
    const labels = { connection: message.connection };
    if (outcome === 'delivered') this.messagesDelivered.inc(labels);
    else this.deliveriesFailed.inc(labels);
    // Once per dead letter: a failed retry of one already there is 'still-dead'.
    if (outcome === 'dead') this.deadLettered.inc(labels);
  };

  /**
   * A new grant to another holder than last seen counts as a takeover, unless the last holder was
   * seen releasing it (a graceful stop). Observed at each scrape and status refresh.
   */
  observeLeases(leases: Lease[]): void {
    for (const lease of leases) {
      const seen = this.leasesSeen.get(lease.connection);
      if (seen && lease.token > seen.token && lease.holder !== seen.holder && !seen.released) this.leaseTakeovers.inc({ connection: lease.connection });
      // releaseLease() expires a lease at 0 rather than deleting it.
      this.leasesSeen.set(lease.connection, { holder: lease.holder, token: lease.token, released: lease.expiresAt === 0 });
    }
  }

  /** Reads the gauges from the store and renders the Prometheus text format. */
  async render(store: Store, connections: ConnectionConfig[], now: number): Promise<string> {
    const [counts, throttles, leases, states, filtered] = await Promise.all([
      store.outboxCounts(),
      store.listThrottles(),
      store.listLeases(),
      store.listConnectionStates(),
      store.filteredCounts(),
    ]);
    this.filtered.reset();
    for (const row of filtered) this.filtered.set({ connection: row.connection, condition: row.condition }, row.emails);
    const revoked = new Set(
      states.filter((state) => state.lastPoll && !state.lastPoll.ok && state.lastPoll.errorCode === 'AUTH_REVOKED').map((state) => state.connection),
    );
    this.observeLeases(leases);
    const active = throttles.filter((throttle) => throttle.until > now);
    const throttledAccounts = new Set(active.map((throttle) => throttle.account));
    const byConnection = new Map(counts.map((count) => [count.connection, count]));
    this.outboxDepth.reset();
    this.deadLetters.reset();
    this.throttled.reset();
    this.needsReauth.reset();
    for (const gauge of [this.sinceSuccessfulPoll, this.pollingInterval, this.oldestUndelivered, this.paused]) gauge.reset();
    const stateOf = new Map(states.map((state) => [state.connection, state]));
    for (const connection of connections) {
      const count = byConnection.get(connection.name);
      const labels = { connection: connection.name };
      const state = stateOf.get(connection.name);
      this.sinceSuccessfulPoll.set(labels, Math.max(0, (now - (state?.lastOkPollAt ?? this.startedAt)) / 1000));
      this.pollingInterval.set(labels, connection.pollingInterval / 1000);
      this.oldestUndelivered.set(labels, count?.oldestAt ? Math.max(0, (now - count.oldestAt) / 1000) : 0);
      this.paused.set(labels, state?.pausedBy ? 1 : 0);
      this.outboxDepth.set({ connection: connection.name }, count?.pending ?? 0);
      this.deadLetters.set({ connection: connection.name }, count?.dead ?? 0);
      this.throttled.set({ connection: connection.name }, throttledAccounts.has(throttleAccount(connection)) ? 1 : 0);
      this.needsReauth.set({ connection: connection.name }, revoked.has(connection.name) ? 1 : 0);
    }
    this.throttledAccounts.set(throttledAccounts.size);
    for (const gauge of [this.graphRequests, this.graphBudget, this.graphBacklog, this.graphEmailsPerMinute]) gauge.reset();
    for (const [name, progress] of await graphProgress(store, connections, states, now)) {
      this.graphRequests.set({ connection: name }, progress.requestsInWindow);
      this.graphBudget.set({ connection: name }, progress.requestBudget);
      if (progress.backlog !== null) this.graphBacklog.set({ connection: name }, progress.backlog);
      this.graphEmailsPerMinute.set({ connection: name }, progress.emailsPerMinute);
    }
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
