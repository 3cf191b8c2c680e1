/** `postroom validate`: check the config file without touching any server. */
import type { Command } from 'commander';
import { formatDuration } from '../config/duration.ts';
import { loadConfig } from '../config/load-config.ts';
import type { ConnectionConfig } from '../config/schema.ts';
import { serverSearchPlan } from '../sources/imap/server-search.ts';
import { EXIT, globalOptions, runCommand } from './run-command.ts';

/** An IMAP connection's filter: what the server's SEARCH pre-selects, and what only Postroom judges. */
function preSelection(connection: ConnectionConfig): string | undefined {
  if (connection.hostType !== 'imap' || !connection.filter) return undefined;
  const plan = serverSearchPlan(connection);
  if (plan.off) return `filter: every email judged by Postroom (${plan.off})`;
  const notSearched = plan.notPushed.map((entry) => `${entry.condition} (${entry.why})`).join('; ');
  if (!plan.searches.length) return `filter: every email judged by Postroom; no condition can be searched on the server: ${notSearched}`;
  const searched = plan.searches.map((search) => `${search.condition}: SEARCH ${search.keys}`).join('; ');
  return `filter: pre-selected on the server (${searched}), what it finds judged again by Postroom${notSearched ? `; judged by Postroom only: ${notSearched}` : ''}`;
}

export function registerValidate(program: Command): void {
  program.command('validate').action(async (_options: unknown, command: Command) =>
    runCommand(async () => {
      const loaded = loadConfig(globalOptions(command).config);
      const { config } = loaded;
      process.stdout.write(`${loaded.path} is valid.\n`);
      process.stdout.write(`store: ${/^postgres/.test(config.store) ? config.store.replace(/\/\/[^@/]*@/, '//***@') : config.store}\n`);
      for (const [name, destination] of Object.entries(config.destinations)) process.stdout.write(`destination ${name}: ${destination.type}\n`);
      for (const c of config.connections) {
        const where = c.hostType === 'graph' ? c.mailbox : `${c.username}@${c.host}:${c.port}${c.useSsl ? ' (TLS)' : c.startTls ? ' (STARTTLS)' : ' (plain)'}`;
        const action =
          c.hostType === 'pop3'
            ? 'delete (POP3 always deletes)'
            : c.deleteMessages
              ? 'delete'
              : 'moveTo' in c && c.moveTo
                ? `move to ${c.moveTo}`
                : 'mark seen';
        process.stdout.write(
          `connection ${c.name}: ${c.hostType} ${where}, every ${formatDuration(c.pollingInterval)}, then ${action}, to ${c.destination}${c.enabled ? '' : ' (disabled)'}\n`,
        );
        const filter = preSelection(c);
        if (filter) process.stdout.write(`  ${filter}\n`);
      }
      for (const warning of loaded.warnings) process.stdout.write(`warning: ${warning}\n`);
      return EXIT.ok;
    }),
  );
}
