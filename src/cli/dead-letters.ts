/**
 * `postroom dead-letters list | replay <id...> | replay --all`: catastrophic retry by hand. The
 * replay builds its own destinations from the config file as it is now (a running service reloads
 * its own on SIGHUP or POST /api/destinations/reload).
 */
import type { Command } from 'commander';
import type { ReplayOutcome } from '../engine/delivery.ts';
import { PostroomError } from '../model/errors.ts';
import { EXIT, loadContext, openContextStore, runCommand } from './context.ts';

export function registerDeadLetters(program: Command): void {
  const group = program.command('dead-letters');
  group
    .command('list')
    .option('--connection <name>', 'only this connection')
    .option('--json', 'print JSON')
    .action(async (options: { connection?: string; json?: boolean }, command: Command) =>
      runCommand(async () => {
        const context = loadContext(command);
        const opened = await openContextStore(context);
        try {
          const dead = await opened.store.listDeadLetters(options.connection ? { connection: options.connection } : {});
          if (options.json) {
            process.stdout.write(
              `${JSON.stringify(
                dead.map(({ contentRef: _ref, ...rest }) => rest),
                null,
                2,
              )}\n`,
            );
            return EXIT.ok;
          }
          if (!dead.length) process.stdout.write('no dead letters\n');
          for (const d of dead) {
            process.stdout.write(
              `${d.id}  ${d.connection} -> ${d.destination}  ${d.envelope.kind} ${d.envelope.filename}  attempts ${d.attempts}  next ${d.nextAttemptAt ? new Date(d.nextAttemptAt).toISOString() : 'manual replay only'}\n    ${d.lastError ?? ''}\n`,
            );
          }
          return EXIT.ok;
        } finally {
          await opened.store.close();
        }
      }),
    );
  group
    .command('replay [ids...]')
    .option('--all', 'replay every dead letter')
    .option('--json', 'print what happened to each as JSON')
    .description(
      'deliver dead letters now, with the destinations as the config file has them now, and say what happened to each: delivered, or failed again (why, and the next attempt). ' +
        'A running `postroom run` keeps the destinations it started with until it reloads them: `kill -HUP <pid>` or POST /api/destinations/reload',
    )
    .action(async (ids: string[], options: { all?: boolean; json?: boolean }, command: Command) =>
      runCommand(async () => {
        if (!options.all && ids.length === 0) throw new PostroomError('CONFIG_INVALID', 'give dead letter ids or --all');
        const context = loadContext(command);
        const opened = await openContextStore(context);
        // The delivery code and the destinations' drivers load only for this command.
        const [{ Worker }, { createDestination }] = await Promise.all([import('../engine/worker.ts'), import('../destinations/registry.ts')]);
        const worker = new Worker({ config: context.loaded.config, opened, log: context.log, createDestination });
        // Traced like the service when telemetry is set up: each replayed delivery continues its email's trace.
        const tracing = await import('../service/telemetry.ts');
        const telemetry = tracing.tracingWanted(context.loaded.config) ? await tracing.startTracing(context.loaded.config) : undefined;
        try {
          const dead = options.all ? (await opened.store.listDeadLetters()).map((d) => d.id) : ids;
          const known = new Set((await Promise.all(dead.map((id) => opened.store.getOutboxMessage(id)))).filter((m) => m?.state === 'dead').map((m) => m!.id));
          const outcomes = await worker.delivery.replay(
            dead.filter((id) => known.has(id)),
            'the CLI',
          );
          const unknown = dead.filter((id) => !known.has(id));
          if (options.json) process.stdout.write(`${JSON.stringify({ results: outcomes, notDeadLetters: unknown }, null, 2)}\n`);
          else {
            for (const id of unknown) process.stdout.write(`${id}  not a dead letter (see \`postroom dead-letters list\`)\n`);
            for (const o of outcomes) process.stdout.write(`${o.id}  ${describe(o)}\n`);
            if (!dead.length) process.stdout.write('no dead letters\n');
          }
          const failed = outcomes.some((o) => o.outcome === 'failed') || unknown.length > 0;
          return failed ? EXIT.failed : EXIT.ok;
        } finally {
          await worker.stop();
          await opened.store.close();
          await telemetry?.shutdown();
        }
      }),
    );
}

function describe(outcome: ReplayOutcome): string {
  switch (outcome.outcome) {
    case 'delivered':
      return 'delivered';
    case 'failed':
      return `FAILED again: ${outcome.error ?? 'no reason given'}; ${outcome.nextAttemptAt ? `next attempt ${new Date(outcome.nextAttemptAt).toISOString()}` : 'only a replay will try again'}`;
    case 'queued':
      return 'being delivered by a running worker right now';
    case 'not-found':
      return 'no longer in the outbox';
  }
}
