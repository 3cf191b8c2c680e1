#!/usr/bin/env node
/**
 * The `postroom` command. The commands are a table (commands.ts); only the invoked one's module
 * is loaded, so `postroom --help` loads the argument parser and nothing else.
 */
import { Command, Help } from 'commander';
import { COMMANDS } from './commands.ts';

/** The command the arguments name (after `help`, the one asked about), skipping the global options. */
function invokedCommand(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '-c' || arg === '--config') i++;
    else if (arg === '--') return args[i + 1];
    else if (!arg.startsWith('-')) return arg === 'help' ? args[i + 1] : arg;
  }
  return undefined;
}

const program = new Command()
  .name('postroom')
  .description('Turns email accounts into a reliable stream of pipeline messages.')
  .option('-c, --config <file>', 'configuration file (default: ./postroom.yaml, or $POSTROOM_CONFIG)')
  .showHelpAfterError()
  .configureHelp({ subcommandTerm: (command) => COMMANDS[command.name()]?.term ?? new Help().subcommandTerm(command) })
  .exitOverride((error) => {
    process.exit(error.exitCode === 0 ? 0 : 2);
  });

const invoked = invokedCommand(process.argv.slice(2));
const entry = invoked !== undefined && Object.hasOwn(COMMANDS, invoked) ? COMMANDS[invoked] : undefined;
if (entry) {
  (await entry.load())(program);
  // The summary lives in the table alone; the command's module adds its options and action.
  program.commands.find((command) => command.name() === invoked)?.description(entry.summary);
}
// No command, `--help` or an unknown one: list every command without loading any.
else for (const [name, { summary }] of Object.entries(COMMANDS)) program.command(name).description(summary);

await program.parseAsync(process.argv);
