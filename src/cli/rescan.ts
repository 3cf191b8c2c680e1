/** `postroom rescan <connection>`: the emails a filter left alone are judged again at the next poll. */
import type { Command } from 'commander';
import { PostroomError } from '../model/errors.ts';
import { EXIT, loadContext, openContextStore, runCommand } from './context.ts';

export function registerRescan(program: Command): void {
  program.command('rescan <connection>').action(async (name: string, _options: unknown, command: Command) =>
    runCommand(async () => {
      const context = loadContext(command);
      const all = context.loaded.config.connections;
      if (!all.some((c) => c.name === name)) {
        throw new PostroomError('CONNECTION_NOT_FOUND', `"${name}"`, { hint: `Connections in the config: ${all.map((c) => c.name).join(', ') || 'none'}.` });
      }
      const opened = await openContextStore(context);
      try {
        const forgotten = await opened.store.forgetFiltered(name, Date.now());
        process.stdout.write(
          `${name}: ${forgotten} email(s) left alone by the filter will be judged again at the next poll (those still on the server); run \`postroom run --once\` to do it now\n`,
        );
        return EXIT.ok;
      } finally {
        await opened.store.close();
      }
    }),
  );
}
