/** `postroom run [--once]`: the service, or one poll of every connection and a full delivery. */
import type { Command } from 'commander';
import type { PollOutcome } from '../engine/poll-connection.ts';
import { PostroomService } from '../service/postroom-service.ts';
import { EXIT, loadContext, runCommand } from './context.ts';
import { createProgress } from './progress.ts';

function waitText(ms: number): string {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  return seconds < 120 ? `${seconds} s` : `${Math.ceil(seconds / 60)} min`;
}

function describeOutcome(name: string, outcome: PollOutcome): string {
  switch (outcome.status) {
    case 'done': {
      const r = outcome.result;
      const failed = r.failures.length ? `, ${r.failures.length} could not be fetched (tried again next run)` : '';
      return `${name}: ${r.emails} new email(s), ${r.messages} pipeline message(s)${r.alreadyEmitted ? `, ${r.alreadyEmitted} already delivered before` : ''}${failed}`;
    }
    case 'failed':
      return `${name}: FAILED: ${outcome.error.explain()}`;
    case 'throttled': {
      const taken = outcome.result ? `${outcome.result.emails} new email(s), ${outcome.result.messages} pipeline message(s) before that; ` : '';
      return `${name}: throttled by the provider (${outcome.reason}); ${taken}reading can resume at ${new Date(outcome.until).toISOString()} (in ${waitText(outcome.until - Date.now())}): run again then`;
    }
    case 'leased-elsewhere':
      return `${name}: skipped, ${outcome.holder} holds the lease until ${new Date(outcome.until).toISOString()}`;
  }
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .option(
      '--once',
      'poll every connection once, deliver everything, and exit: 1 on failure, 75 while a provider throttles for longer than throttle.onceWaitMax',
    )
    .action(async (options: { once?: boolean }, command: Command) =>
      runCommand(async () => {
        const context = loadContext(command);
        const { config, baseDir, path } = context.loaded;
        const service = await PostroomService.open({ config, log: context.log, baseDir, configFile: path, mode: options.once ? 'once' : 'service' });
        if (options.once) {
          const progress = createProgress();
          try {
            const { polls, delivery } = await service.runOnce((name, p) => progress.update(name, p.done, p.total));
            progress.finish();
            for (const [name, outcome] of polls) process.stdout.write(`${describeOutcome(name, outcome)}\n`);
            process.stdout.write(
              `delivered ${delivery.delivered} pipeline message(s)${delivery.retried ? `, ${delivery.retried} to retry` : ''}${delivery.dead ? `, ${delivery.dead} moved to dead letters` : ''}\n`,
            );
            const failed = [...polls.values()].some((o) => o.status === 'failed' || (o.status === 'done' && o.result.failures.length > 0));
            if (failed || delivery.dead || delivery.retried) return EXIT.failed;
            // Throttled for longer than throttle.onceWaitMax: not a failure, but not done either.
            return [...polls.values()].some((o) => o.status === 'throttled') ? EXIT.tempfail : EXIT.ok;
          } finally {
            await service.stop();
          }
        }
        const names = service.worker.connections().map((c) => c.name);
        context.log.info(
          { connections: names, store: service.opened.dataDir, holder: service.worker.holder },
          `postroom running: ${names.length} connection(s)`,
        );
        if (names.length === 0) {
          context.log.warn(`no enabled connection yet: add one under connections: in ${path} (the example's is off until IMAP_ENABLED=true), or in the web UI`);
        }
        try {
          await service.start();
        } catch (error) {
          await service.stop();
          throw error;
        }
        if (service.url) process.stdout.write(`postroom web UI and REST API: ${service.url}\n`);
        // `kill -HUP <pid>`: read the config file again and use changed destinations' settings (the service logs what it did).
        const reload = (): void => void service.reloadDestinations('SIGHUP').catch(() => undefined);
        process.on('SIGHUP', reload);
        await new Promise<void>((resolve) => {
          const shutdown = (signal: string): void => {
            context.log.info({ signal }, 'stopping: finishing the email in hand and releasing leases');
            resolve();
          };
          process.once('SIGINT', () => shutdown('SIGINT'));
          process.once('SIGTERM', () => shutdown('SIGTERM'));
        });
        process.off('SIGHUP', reload);
        await service.stop({ timeoutMs: 30_000 });
        context.log.info('stopped');
        return EXIT.ok;
      }),
    );
}
