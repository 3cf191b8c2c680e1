/**
 * The status board's data in a handful of queries whatever the number of connections: scheduling
 * state, leases, throttles, outbox counts, the per-minute activity for the plot, and for Graph
 * connections the request budget, backlog and emails per minute.
 */

import type { DeliveryHealth } from '../store/store.ts';
import { throttleAccount } from '../throttle/account.ts';
import { deliveryState, FAILING_STATES } from './connection-states.ts';
import { type GraphProgress, graphProgress } from './graph-progress.ts';
import type { ApiContext } from './route.ts';
import type { ConnectionStatus, StatusReport } from './schemas.ts';

/** Plot resolution. */
export const ACTIVITY_BUCKET_MS = 60_000;
/** Hours the plot covers unless asked otherwise; the store keeps a day of poll history. */
export const DEFAULT_ACTIVITY_HOURS = 3;
export const MAX_ACTIVITY_HOURS = 24;

const iso = (ms: number): string => new Date(ms).toISOString();

function progressView(progress: GraphProgress | undefined): ConnectionStatus['graph'] {
  if (!progress) return null;
  return { ...progress, backlogAt: progress.backlogAt === null ? null : iso(progress.backlogAt) };
}

/** Delivery state of a group of (connection, destination) rows: counts summed, the latest error. */
function healthView(rows: DeliveryHealth[]): ConnectionStatus['delivery'] {
  const retrying = rows.reduce((sum, row) => sum + row.retrying, 0);
  const dead = rows.reduce((sum, row) => sum + row.dead, 0);
  const latest = rows.filter((row) => row.lastError !== null).sort((a, b) => (b.lastErrorAt ?? 0) - (a.lastErrorAt ?? 0))[0];
  return {
    state: deliveryState({ retrying, dead }),
    retrying,
    deadLetters: dead,
    lastError: latest?.lastError ?? null,
    lastErrorAt: latest?.lastErrorAt ? iso(latest.lastErrorAt) : null,
  };
}

export async function buildStatus(context: ApiContext, hours = DEFAULT_ACTIVITY_HOURS): Promise<StatusReport> {
  const { store } = context.opened;
  const now = context.clock.now();
  const start = Math.floor((now - hours * 3_600_000) / ACTIVITY_BUCKET_MS) * ACTIVITY_BUCKET_MS;
  const [states, leases, throttles, counts, activity, health, filtered] = await Promise.all([
    store.listConnectionStates(),
    store.listLeases(),
    store.listThrottles(),
    store.outboxCounts(),
    store.pollActivity(start, ACTIVITY_BUCKET_MS),
    store.deliveryHealth(),
    store.filteredCounts(),
  ]);
  context.metrics.observeLeases(leases);
  const entries = context.connections.list();
  const graph = await graphProgress(
    store,
    entries.flatMap((entry) => (entry.config ? [entry.config] : [])),
    states,
    now,
  );
  const stateOf = new Map(states.map((state) => [state.connection, state]));
  const leaseOf = new Map(leases.filter((lease) => lease.expiresAt > now).map((lease) => [lease.connection, lease]));
  const throttleOf = new Map(throttles.filter((throttle) => throttle.until > now).map((throttle) => [throttle.account, throttle]));
  const countOf = new Map(counts.map((count) => [count.connection, count]));

  const connections = entries.map((entry): ConnectionStatus => {
    const state = stateOf.get(entry.name);
    const lease = leaseOf.get(entry.name);
    const throttle = entry.config ? throttleOf.get(throttleAccount(entry.config)) : undefined;
    const count = countOf.get(entry.name);
    const last = state?.lastPoll ?? null;
    const failing = last !== null && !last.ok;
    const stateName: ConnectionStatus['state'] = !entry.config
      ? 'invalid'
      : !entry.enabled
        ? 'disabled'
        : state?.pausedBy
          ? 'paused'
          : state?.pollingSince
            ? 'polling'
            : throttle
              ? 'throttled'
              : failing
                ? last.errorCode === 'AUTH_REVOKED'
                  ? 'needs_reauth'
                  : 'failing'
                : last
                  ? 'ok'
                  : 'new';
    return {
      name: entry.name,
      hostType: entry.config?.hostType ?? String(entry.input.hostType ?? ''),
      enabled: entry.enabled,
      source: entry.source,
      state: stateName,
      lastPoll: last
        ? {
            at: iso(last.startedAt),
            ok: last.ok,
            emails: last.emails,
            messages: last.messages,
            durationMs: last.finishedAt - last.startedAt,
            holder: last.holder,
            error: last.error,
          }
        : null,
      nextPollAt: entry.enabled && state?.nextDueAt ? iso(state.nextDueAt) : null,
      lease: lease ? { holder: lease.holder, until: iso(lease.expiresAt) } : null,
      throttle: throttle ? { until: iso(throttle.until), reason: throttle.reason } : null,
      outbox: count?.pending ?? 0,
      deadLetters: count?.dead ?? 0,
      emailsTotal: state?.emailsTotal ?? 0,
      filtered: Object.fromEntries(filtered.filter((row) => row.connection === entry.name).map((row) => [row.condition, row.emails])),
      messagesTotal: state?.messagesTotal ?? 0,
      consecutiveFailures: state?.consecutiveFailures ?? 0,
      lastError: entry.problem ?? last?.error ?? null,
      lastSuccessfulPollAt: state?.lastOkPollAt ? iso(state.lastOkPollAt) : null,
      polling: state?.pollingSince ? { since: iso(state.pollingSince), holder: state.pollingHolder ?? '' } : null,
      paused: state?.pausedBy ? { by: state.pausedBy, at: iso(state.pausedAt ?? 0) } : null,
      delivery: healthView(health.filter((row) => row.connection === entry.name)),
      graph: progressView(graph.get(entry.name)),
    };
  });

  const buckets = Math.ceil((now - start) / ACTIVITY_BUCKET_MS);
  const emails = new Array<number>(buckets).fill(0);
  const messages = new Array<number>(buckets).fill(0);
  for (const bucket of activity) {
    const index = Math.floor((bucket.at - start) / ACTIVITY_BUCKET_MS);
    if (index < 0 || index >= buckets) continue;
    emails[index] = bucket.emails;
    messages[index] = bucket.messages;
  }

  return {
    now: iso(now),
    connections,
    destinations: (context.worker?.destinationList() ?? Object.entries(context.config.destinations).map(([name, { type }]) => ({ name, type }))).map(
      ({ name, type }) => ({
        name,
        type,
        ...healthView(health.filter((row) => row.destination === name)),
      }),
    ),
    totals: {
      connections: connections.length,
      failing: connections.filter((c) => FAILING_STATES.has(c.state)).length,
      throttled: connections.filter((c) => c.state === 'throttled').length,
      outbox: connections.reduce((sum, c) => sum + c.outbox, 0),
      deadLetters: connections.reduce((sum, c) => sum + c.deadLetters, 0),
    },
    activity: { start: iso(start), bucketMs: ACTIVITY_BUCKET_MS, emails, messages },
  };
}
