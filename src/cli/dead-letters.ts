/** `postroom dead-letters list | replay <id...> | replay --all`: catastrophic retry by hand. */
import type { Command } from 'commander';
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
            process.stdout.write(`${JSON.stringify(dead.map(({ contentRef: _ref, ...rest }) => rest), null, 2)}\n`);
            return EXIT.ok;
          }
          if (!dead.length) process.stdout.write('no dead letters\n');
          for (const d of dead) {
            process.stdout.write(`${d.id}  ${d.connection} -> ${d.destination}  ${d.envelope.kind} ${d.envelope.filename}  attempts ${d.attempts}  next ${d.nextAttemptAt ? new Date(d.nextAttemptAt).toISOString() : 'manual replay only'}\n    ${d.lastError ?? ''}\n`);
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
    .description('make dead letters due now; a running worker (or the next run) delivers them')
    .action(async (ids: string[], options: { all?: boolean }, command: Command) =>
      runCommand(async () => {
        if (!options.all && ids.length === 0) throw new PostroomError('CONFIG_INVALID', 'give dead letter ids or --all');
        const context = loadContext(command);
        const opened = await openContextStore(context);
        try {
          const count = await opened.store.replayDeadLetters(options.all ? 'all' : ids, Date.now());
          process.stdout.write(`${count} dead letter(s) due for delivery now\n`);
          return count || options.all ? EXIT.ok : EXIT.failed;
        } finally {
          await opened.store.close();
        }
      }),
    );
}
