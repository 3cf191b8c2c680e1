/** What every command shares, without loading anything: exit codes, global options, errors printed for people. */
import type { Command } from 'commander';
import { errorMessage, PostroomError } from '../model/errors.ts';

/**
 * Exit codes: 0 success, 1 the work failed, 2 bad usage or configuration, 75 a provider is
 * throttling and the work is not finished: nothing is wrong, run again later (EX_TEMPFAIL of
 * sysexits.h, which cron wrappers and systemd know as "temporary failure").
 */
export const EXIT = Object.freeze({ ok: 0, failed: 1, usage: 2, tempfail: 75 });

export function globalOptions(command: Command): { config?: string } {
  return command.optsWithGlobals<{ config?: string }>();
}

/** Runs a command body; prints a PostroomError as one clear paragraph and sets the exit code. */
export async function runCommand(body: () => Promise<number | undefined>): Promise<void> {
  try {
    process.exitCode = (await body()) ?? EXIT.ok;
  } catch (error) {
    const usage =
      error instanceof PostroomError && (error.code === 'CONFIG_INVALID' || error.code === 'CONFIG_NOT_FOUND' || error.code === 'CONNECTION_NOT_FOUND');
    process.stderr.write(`postroom: ${errorMessage(error)}\n`);
    if (!(error instanceof PostroomError) && process.env.POSTROOM_DEBUG) process.stderr.write(`${(error as Error).stack ?? ''}\n`);
    process.exitCode = usage ? EXIT.usage : EXIT.failed;
  }
}
