#!/usr/bin/env node
/** The `postroom` command. Each subcommand is one file, registered here with one line. */
import { Command } from 'commander';
import { registerCheck } from './check.ts';
import { registerDeadLetters } from './dead-letters.ts';
import { registerRun } from './run.ts';
import { registerStatus } from './status.ts';
import { registerThrottleCheck } from './throttle-check.ts';
import { registerValidate } from './validate.ts';

const program = new Command()
  .name('postroom')
  .description('Turns email accounts into a reliable stream of pipeline messages.')
  .option('-c, --config <file>', 'configuration file (default: ./postroom.yaml, or $POSTROOM_CONFIG)')
  .showHelpAfterError()
  .exitOverride((error) => {
    process.exit(error.exitCode === 0 ? 0 : 2);
  });

for (const register of [registerRun, registerCheck, registerValidate, registerStatus, registerDeadLetters, registerThrottleCheck]) register(program);

await program.parseAsync(process.argv);
