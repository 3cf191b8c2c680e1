/** `postroom status`: per connection, last and next poll, lease holder, throttling, outbox, dead letters, the latest operator controls; for Graph the request budget, backlog, emails per minute. */
import type { Command } from 'commander';
import { deliveryState } from '../api/connection-states.ts';
import { type GraphProgress, graphProgress } from '../api/graph-progress.ts';
import { throttleAccount } from '../throttle/account.ts';
import { EXIT, loadContext, openContextStore, runCommand } from './context.ts';

const time = (ms: number | null | undefined): string => (ms ? new Date(ms).toISOString() : '-');

/** The latest controls shown per connection (the web UI's connection page and the API have the day's). */
const CONTROLS_SHOWN = 3;
const CONTROL_WORDS = { pause: 'paused', resume: 'resumed', poll: 'poll now' } as const;

function graphView(progress: GraphProgress | undefined) {
  return progress ? { ...progress, backlogAt: progress.backlogAt === null ? null : time(progress.backlogAt) } : null;
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) =>
      runCommand(async () => {
        const context = loadContext(command);
        const opened = await openContextStore(context);
        try {
          const { store } = opened;
          const [states, leases, throttles, dead, health, filteredCounts] = await Promise.all([
            store.listConnectionStates(),
            store.listLeases(),
            store.listThrottles(),
            store.listDeadLetters(),
            store.deliveryHealth(),
            store.filteredCounts(),
          ]);
          const now = Date.now();
          const graph = await graphProgress(store, context.loaded.config.connections, states, now);
          const rows = [];
          for (const connection of context.loaded.config.connections) {
            const state = states.find((s) => s.connection === connection.name);
            const lease = leases.find((l) => l.connection === connection.name && l.expiresAt > now);
            const throttle = throttles.find((t) => t.account === throttleAccount(connection) && t.until > now);
            const delivery = health.filter((h) => h.connection === connection.name);
            const retrying = delivery.reduce((sum, h) => sum + h.retrying, 0);
            const deadCount = delivery.reduce((sum, h) => sum + h.dead, 0);
            const latest = delivery.filter((h) => h.lastError).sort((a, b) => (b.lastErrorAt ?? 0) - (a.lastErrorAt ?? 0))[0];
            rows.push({
              connection: connection.name,
              hostType: connection.hostType,
              // What the running service decided (its environment may differ from this shell's).
              enabled: state?.enabled ?? connection.enabled,
              enabledFrom: state?.enabled === null || state?.enabled === undefined ? 'this shell' : 'the service',
              pollingNow: state?.pollingSince ? { since: time(state.pollingSince), holder: state.pollingHolder } : null,
              paused: state?.pausedBy ? { by: state.pausedBy, at: time(state.pausedAt) } : null,
              lastSuccessfulPoll: state?.lastOkPollAt ? time(state.lastOkPollAt) : null,
              delivery: { state: deliveryState({ retrying, dead: deadCount }), retrying, deadLetters: deadCount, lastError: latest?.lastError ?? null },
              lastPoll: state?.lastPoll
                ? {
                    at: time(state.lastPoll.startedAt),
                    ok: state.lastPoll.ok,
                    emails: state.lastPoll.emails,
                    durationMs: state.lastPoll.finishedAt - state.lastPoll.startedAt,
                    error: state.lastPoll.error,
                  }
                : null,
              nextPoll: time(state?.nextDueAt),
              leaseHolder: lease?.holder ?? null,
              leaseUntil: lease ? time(lease.expiresAt) : null,
              throttledUntil: throttle ? time(throttle.until) : null,
              throttleReason: throttle?.reason ?? null,
              outbox: await store.outboxDepth(connection.name),
              deadLetters: dead.filter((d) => d.connection === connection.name).length,
              emailsTotal: state?.emailsTotal ?? 0,
              /** Emails the filter left out, per deciding condition. */
              filtered: Object.fromEntries(filteredCounts.filter((row) => row.connection === connection.name).map((row) => [row.condition, row.emails])),
              needsReauth: !!state?.lastPoll && !state.lastPoll.ok && state.lastPoll.errorCode === 'AUTH_REVOKED',
              graph: graphView(graph.get(connection.name)),
              /** The latest operator controls, newest first. */
              controls: (await store.recentControls(connection.name, CONTROLS_SHOWN)).map((control) => ({
                action: control.action,
                by: control.by,
                at: time(control.at),
                polledAt: control.polledAt === null ? null : time(control.polledAt),
              })),
            });
          }
          if (options.json) {
            process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
            return EXIT.ok;
          }
          for (const r of rows) {
            process.stdout.write(
              `${r.connection} (${r.hostType}${r.enabled ? '' : ', disabled'}${r.paused ? `, PAUSED by ${r.paused.by} at ${r.paused.at}` : ''})${r.needsReauth ? '  NEEDS RE-AUTHORISATION: renew its OAuth2 credentials' : ''}\n`,
            );
            process.stdout.write(
              `  last poll:   ${r.lastPoll ? `${r.lastPoll.at} ${r.lastPoll.ok ? 'ok' : 'FAILED'}, ${r.lastPoll.emails} email(s) in ${r.lastPoll.durationMs} ms${r.lastPoll.error ? ` (${r.lastPoll.error})` : ''}` : 'never'}\n`,
            );
            process.stdout.write(`  next poll:   ${r.pollingNow ? `polling now (since ${r.pollingNow.since} on ${r.pollingNow.holder})` : r.nextPoll}\n`);
            process.stdout.write(`  lease:       ${r.leaseHolder ? `${r.leaseHolder} until ${r.leaseUntil}` : 'free'}\n`);
            process.stdout.write(`  throttled:   ${r.throttledUntil ? `until ${r.throttledUntil} (${r.throttleReason})` : 'no'}\n`);
            process.stdout.write(`  outbox:      ${r.outbox} waiting, ${r.deadLetters} dead letter(s), ${r.emailsTotal} email(s) picked up in all\n`);
            process.stdout.write(
              `  delivery:    ${r.delivery.state}${r.delivery.retrying ? `, ${r.delivery.retrying} to retry` : ''}${r.delivery.deadLetters ? `, ${r.delivery.deadLetters} dead letter(s)` : ''}${r.delivery.lastError ? ` (last error: ${r.delivery.lastError})` : ''}\n`,
            );
            if (r.controls.length)
              process.stdout.write(`  controls:    ${r.controls.map((c) => `${CONTROL_WORDS[c.action]} by ${c.by} at ${c.at}`).join('; ')}\n`);
            const filtered = Object.entries(r.filtered);
            if (filtered.length) {
              const total = filtered.reduce((sum, [, emails]) => sum + emails, 0);
              process.stdout.write(
                `  filtered:    ${total} email(s) left out (${filtered.map(([condition, emails]) => `${condition} ${emails}`).join(', ')})\n`,
              );
            }
            if (r.graph) {
              const g = r.graph;
              process.stdout.write(
                `  graph:       ${g.requestsInWindow} of ${g.requestBudget} requests in the last ${g.windowSeconds / 60} min; ${g.backlog === null ? 'backlog not listed yet' : `${g.backlog} unread at the last listing (${g.backlogAt})`}; ${g.emailsPerMinute} email(s)/min\n`,
              );
            }
          }
          return EXIT.ok;
        } finally {
          await opened.store.close();
        }
      }),
    );
}
