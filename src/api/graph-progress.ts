/**
 * What status shows per Graph connection, for `postroom status`, `/api/status` and `/metrics`
 * alike: requests counted against the mailbox's budget in its current window (every worker's),
 * the budget, the backlog the last listing saw, and emails per minute over the last 10 minutes.
 */
import type { ConnectionConfig, GraphConnectionConfig } from '../config/schema.ts';
import { budgetAccount, requestsInWindow } from '../sources/graph/request-budget.ts';
import type { ConnectionState, Store } from '../store/store.ts';

/** Emails per minute are averaged over this long: the budget's own window. */
export const RATE_WINDOW_MS = 10 * 60_000;

export interface GraphProgress {
  requestsInWindow: number;
  requestBudget: number;
  windowSeconds: number;
  /** Unread emails the last listing said were waiting, less those its page then took (null: not listed yet), and when. */
  backlog: number | null;
  backlogAt: number | null;
  emailsPerMinute: number;
}

export async function graphProgress(
  store: Store,
  connections: readonly ConnectionConfig[],
  states: readonly ConnectionState[],
  now: number,
): Promise<Map<string, GraphProgress>> {
  const graph = connections.filter((connection): connection is GraphConnectionConfig => connection.hostType === 'graph');
  const progress = new Map<string, GraphProgress>();
  if (!graph.length) return progress;
  const emails = await store.emailsSince(now - RATE_WINDOW_MS);
  await Promise.all(
    graph.map(async (connection) => {
      const settings = { requests: connection.requestBudget.requests, windowMs: connection.requestBudget.window };
      const state = states.find((candidate) => candidate.connection === connection.name);
      progress.set(connection.name, {
        requestsInWindow: await requestsInWindow(store, budgetAccount(connection.graphEndpoint, connection.clientId, connection.mailbox), settings, now),
        requestBudget: settings.requests,
        windowSeconds: Math.round(settings.windowMs / 1000),
        backlog: state?.backlog ?? null,
        backlogAt: state?.backlogAt ?? null,
        emailsPerMinute: Math.round(((emails.get(connection.name) ?? 0) / (RATE_WINDOW_MS / 60_000)) * 10) / 10,
      });
    }),
  );
  return progress;
}
