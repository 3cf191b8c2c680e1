/** `postroom status`: per connection, last and next poll, lease holder, throttling, outbox, dead letters; for Graph the request budget, backlog, emails per minute. */
import type { Command } from 'commander';
import { graphProgress, type GraphProgress } from '../api/graph-progress.ts';
import { throttleAccount } from '../throttle/account.ts';
import { EXIT, loadContext, openContextStore, runCommand } from './context.ts';

const time = (ms: number | null | undefined): string => (ms ? new Date(ms).toISOString() : '-');

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
          const [states, leases, throttles, dead] = await Promise.all([store.listConnectionStates(), store.listLeases(), store.listThrottles(), store.listDeadLetters()]);
          const now = Date.now();
          const graph = await graphProgress(store, context.loaded.config.connections, states, now);
          const rows = [];
          for (const connection of context.loaded.config.connections) {
            const state = states.find((s) => s.connection === connection.name);
            const lease = leases.find((l) => l.connection === connection.name && l.expiresAt > now);
            const throttle = throttles.find((t) => t.account === throttleAccount(connection) && t.until > now);
            rows.push({
              connection: connection.name,
              hostType: connection.hostType,
              enabled: connection.enabled,
              lastPoll: state?.lastPoll ? { at: time(state.lastPoll.startedAt), ok: state.lastPoll.ok, emails: state.lastPoll.emails, durationMs: state.lastPoll.finishedAt - state.lastPoll.startedAt, error: state.lastPoll.error } : null,
              nextPoll: time(state?.nextDueAt),
              leaseHolder: lease?.holder ?? null,
              leaseUntil: lease ? time(lease.expiresAt) : null,
              throttledUntil: throttle ? time(throttle.until) : null,
              throttleReason: throttle?.reason ?? null,
              outbox: await store.outboxDepth(connection.name),
              deadLetters: dead.filter((d) => d.connection === connection.name).length,
              emailsTotal: state?.emailsTotal ?? 0,
              needsReauth: !!state?.lastPoll && !state.lastPoll.ok && state.lastPoll.errorCode === 'AUTH_REVOKED',
              graph: graphView(graph.get(connection.name)),
            });
          }
          if (options.json) {
            process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
            return EXIT.ok;
          }
          for (const r of rows) {
            process.stdout.write(`${r.connection} (${r.hostType}${r.enabled ? '' : ', disabled'})${r.needsReauth ? '  NEEDS RE-AUTHORISATION: renew its OAuth2 credentials' : ''}\n`);
            process.stdout.write(`  last poll:   ${r.lastPoll ? `${r.lastPoll.at} ${r.lastPoll.ok ? 'ok' : 'FAILED'}, ${r.lastPoll.emails} email(s) in ${r.lastPoll.durationMs} ms${r.lastPoll.error ? ` (${r.lastPoll.error})` : ''}` : 'never'}\n`);
            process.stdout.write(`  next poll:   ${r.nextPoll}\n`);
            process.stdout.write(`  lease:       ${r.leaseHolder ? `${r.leaseHolder} until ${r.leaseUntil}` : 'free'}\n`);
            process.stdout.write(`  throttled:   ${r.throttledUntil ? `until ${r.throttledUntil} (${r.throttleReason})` : 'no'}\n`);
            process.stdout.write(`  outbox:      ${r.outbox} waiting, ${r.deadLetters} dead letter(s), ${r.emailsTotal} email(s) picked up in all\n`);
            if (r.graph) {
              const g = r.graph;
              process.stdout.write(`  graph:       ${g.requestsInWindow} of ${g.requestBudget} requests in the last ${g.windowSeconds / 60} min; ${g.backlog === null ? 'backlog not listed yet' : `${g.backlog} unread at the last listing (${g.backlogAt})`}; ${g.emailsPerMinute} email(s)/min\n`);
            }
          }
          return EXIT.ok;
        } finally {
          await opened.store.close();
        }
      }),
    );
}
