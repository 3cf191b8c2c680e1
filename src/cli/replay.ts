/**
 * `postroom replay <id...>`: send pipeline messages to their destination again, with the same ids
 * (the destination can drop what it already has): a dead letter, or a delivered message a
 * downstream system lost, while its content is kept (`outbox.keepDeliveredContent`). The ids are
 * those `postroom trace` shows.
 */
import type { Command } from 'commander';
import { EXIT, loadContext, openContextStore, runCommand } from './context.ts';
import { describeReplay, replayByHand } from './replay-by-hand.ts';

export function registerReplay(program: Command): void {
  program
    .command('replay <ids...>')
    .option('--json', 'print what happened to each as JSON')
    .description(
      'send pipeline messages (ids from `postroom trace`) to their destination again and say what happened to each; a delivered one can go again while its content is kept (outbox.keepDeliveredContent)',
    )
    .action(async (ids: string[], options: { json?: boolean }, command: Command) =>
      runCommand(async () => {
        const context = loadContext(command);
        const opened = await openContextStore(context);
        try {
          const outcomes = await replayByHand(context, opened, ids);
          if (options.json) process.stdout.write(`${JSON.stringify({ results: outcomes }, null, 2)}\n`);
          else for (const o of outcomes) process.stdout.write(`${o.id}  ${describeReplay(o)}\n`);
          return outcomes.every((o) => o.outcome === 'delivered' || o.outcome === 'queued') ? EXIT.ok : EXIT.failed;
        } finally {
          await opened.store.close();
        }
      }),
    );
}
