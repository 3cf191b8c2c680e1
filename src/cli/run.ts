/** `postroom run [--once]`: the service, or one poll of every connection and a full delivery. */
import type { Command } from 'commander';
import { summaryOf } from './commands.ts';
import { openControlPlane } from '../api/control-plane.ts';
import { Worker } from '../engine/worker.ts';
import type { PollOutcome } from '../engine/poll-connection.ts';
import { EXIT, loadContext, openContextStore, runCommand } from './context.ts';
import { createProgress } from './progress.ts';
import { createDestination } from '../destinations/registry.ts';

function describeOutcome(name: string, outcome: PollOutcome): string {
  switch (outcome.status) {
    case 'done': {
      const r = outcome.result;
      const failed = r.failures.length ? `, ${r.failures.length} could not be fetched (tried again next run)` : '';
      return `${name}: ${r.emails} new email(s), ${r.messages} pipeline message(s)${r.alreadyEmitted ? `, ${r.alreadyEmitted} already delivered before` : ''}${failed}`;
    }
    case 'failed':
      return `${name}: FAILED: ${outcome.error.explain()}`;
    case 'throttled':
      return `${name}: throttled until ${new Date(outcome.until).toISOString()} (${outcome.reason})`;
    case 'leased-elsewhere':
      return `${name}: skipped, ${outcome.holder} holds the lease until ${new Date(outcome.until).toISOString()}`;
  }
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description(summaryOf('run'))
    .option('--once', 'poll every connection once, deliver everything, and exit (non-zero on failure)')
    .action(async (options: { once?: boolean }, command: Command) =>
      runCommand(async () => {
        const context = loadContext(command);
        const opened = await openContextStore(context);
        // Connections from postroom.yaml plus those stored through the API; metrics hooks.
        const plane = await openControlPlane({ config: context.loaded.config, opened, log: context.log, withoutMetrics: options.once === true });
        const worker = new Worker({ createDestination, config: context.loaded.config, opened, log: context.log, ...plane.workerOptions });
        if (options.once) {
          const progress = createProgress();
          try {
            const { polls, delivery } = await worker.runOnce((name, p) => progress.update(name, p.done, p.total));
            progress.finish();
            for (const [name, outcome] of polls) process.stdout.write(`${describeOutcome(name, outcome)}\n`);
            process.stdout.write(`delivered ${delivery.delivered} pipeline message(s)${delivery.retried ? `, ${delivery.retried} to retry` : ''}${delivery.dead ? `, ${delivery.dead} moved to dead letters` : ''}\n`);
            const failed = [...polls.values()].some((o) => o.status === 'failed' || (o.status === 'done' && o.result.failures.length > 0));
            return failed || delivery.dead || delivery.retried ? EXIT.failed : EXIT.ok;
          } finally {
            await worker.stop();
            await opened.store.close();
          }
        }
        const names = worker.connections().map((c) => c.name);
        context.log.info({ connections: names, store: opened.dataDir, holder: worker.holder }, `postroom running: ${names.length} connection(s)`);
        if (names.length === 0) {
          context.log.warn(`no enabled connection yet: add one under connections: in ${context.loaded.path} (the example's is off until IMAP_ENABLED=true), or in the web UI`);
        }
        // Listen first: a port already in use stops the start before any polling begins.
        const api = context.loaded.config.api.enabled ? await plane.listen(worker) : undefined;
        if (api) process.stdout.write(`postroom web UI and REST API: ${api.url}\n`);
        worker.start();
        await new Promise<void>((resolve) => {
          const shutdown = (signal: string): void => {
            context.log.info({ signal }, 'stopping: finishing the email in hand and releasing leases');
            resolve();
          };
          process.once('SIGINT', () => shutdown('SIGINT'));
          process.once('SIGTERM', () => shutdown('SIGTERM'));
        });
        await api?.close();
        await worker.stop({ timeoutMs: 30_000 });
        await opened.store.close();
        context.log.info('stopped');
        return EXIT.ok;
      }),
    );
}
