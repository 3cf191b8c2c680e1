/**
 * `postroom dead-letters list | replay <id...> | replay --all | discard <id...>`: catastrophic retry
 * by hand, or giving up for good. A replay builds its own destinations from the config file as it
 * is now, so a destination fixed in the file since is used as fixed (a running service reloads its
 * own on SIGHUP or POST /api/destinations/reload).
 */
import type { Command } from 'commander';
import { parseEmailId } from '../model/email-id.ts';
import { PostroomError } from '../model/errors.ts';
import { EXIT, loadContext, openContextStore, runCommand } from './context.ts';
import { describeReplay, replayByHand } from './replay-by-hand.ts';

export function registerDeadLetters(program: Command): void {
  const group = program.command('dead-letters');
  group
    .command('list')
    .option('--connection <name>', 'only this connection')
    .option('--destination <name>', 'only those for this destination')
    .option('--json', 'print JSON')
    .action(async (options: { connection?: string; destination?: string; json?: boolean }, command: Command) =>
      runCommand(async () => {
        const context = loadContext(command);
        const opened = await openContextStore(context);
        try {
          const dead = await opened.store.listDeadLetters({
            ...(options.connection ? { connection: options.connection } : {}),
            ...(options.destination ? { destination: options.destination } : {}),
          });
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
        try {
          const dead = options.all ? (await opened.store.listDeadLetters()).map((d) => d.id) : ids;
          const known = new Set((await Promise.all(dead.map((id) => opened.store.getOutboxMessage(id)))).filter((m) => m?.state === 'dead').map((m) => m!.id));
          const outcomes = await replayByHand(
            context,
            opened,
            dead.filter((id) => known.has(id)),
          );
          const unknown = dead.filter((id) => !known.has(id));
          if (options.json) process.stdout.write(`${JSON.stringify({ results: outcomes, notDeadLetters: unknown }, null, 2)}\n`);
          else {
            for (const id of unknown) process.stdout.write(`${id}  not a dead letter (see \`postroom dead-letters list\`)\n`);
            for (const o of outcomes) process.stdout.write(`${o.id}  ${describeReplay(o)}\n`);
            if (!dead.length) process.stdout.write('no dead letters\n');
          }
          const failed = outcomes.some((o) => o.outcome === 'failed') || unknown.length > 0;
          return failed ? EXIT.failed : EXIT.ok;
        } finally {
          await opened.store.close();
        }
      }),
    );
  group
    .command('discard [ids...]')
    .option('--email <id>', 'every dead letter of this email (its id in `postroom trace`)')
    .option('--json', 'print what was discarded as JSON')
    .description('give up on dead letters for good: their content goes, and the email trail says they were discarded by the CLI')
    .action(async (ids: string[], options: { email?: string; json?: boolean }, command: Command) =>
      runCommand(async () => {
        if (!options.email && ids.length === 0) throw new PostroomError('CONFIG_INVALID', 'give dead letter ids or --email <id>');
        const email = options.email === undefined ? undefined : parseEmailId(options.email);
        if (options.email !== undefined && !email) throw new PostroomError('EMAIL_NOT_FOUND', `"${options.email}" is not an email id`);
        const context = loadContext(command);
        const opened = await openContextStore(context);
        try {
          const { discardDeadLetters } = await import('../engine/discard.ts');
          const asked = [...ids, ...(email ? (await opened.store.listDeadLetters(email)).map((d) => d.id) : [])];
          const report = await discardDeadLetters({ store: opened.store, contents: opened.content }, asked, Date.now(), 'the CLI');
          if (options.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
          else {
            for (const id of report.discarded) process.stdout.write(`${id}  discarded\n`);
            for (const id of report.notDiscarded)
              process.stdout.write(`${id}  not discarded: not a dead letter (see \`postroom dead-letters list\`), or a worker is delivering it right now\n`);
            if (!asked.length) process.stdout.write('no dead letters\n');
          }
          return report.notDiscarded.length ? EXIT.failed : EXIT.ok;
        } finally {
          await opened.store.close();
        }
      }),
    );
}
