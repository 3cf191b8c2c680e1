/** `postroom check [name]`: test connections step by step and say exactly what is wrong. */
import type { Command } from 'commander';
import { PostroomError } from '../model/errors.ts';
import { loadSource } from '../sources/registry.ts';
import { EXIT, loadContext, runCommand } from './context.ts';

export function registerCheck(program: Command): void {
  program.command('check [name]').action(async (name: string | undefined, _options: unknown, command: Command) =>
    runCommand(async () => {
      const context = loadContext(command);
      const all = context.loaded.config.connections;
      const connections = name ? all.filter((c) => c.name === name) : all;
      if (name && connections.length === 0) {
        throw new PostroomError('CONNECTION_NOT_FOUND', `"${name}"`, { hint: `Connections in the config: ${all.map((c) => c.name).join(', ') || 'none'}.` });
      }
      let failed = false;
      for (const connection of connections) {
        const steps = await (await loadSource(connection.hostType)).check(connection, { log: context.log });
        const ok = steps.every((step) => step.ok);
        failed ||= !ok;
        process.stdout.write(`${connection.name} (${connection.hostType}): ${ok ? 'OK' : 'FAILED'}\n`);
        for (const step of steps) process.stdout.write(`  ${step.ok ? 'ok  ' : 'FAIL'} ${step.step.padEnd(12)} ${step.detail}\n`);
      }
      return failed ? EXIT.failed : EXIT.ok;
    }),
  );
}
