/** What every command needs: the config, the store, a logger, and errors printed for people. */
import type { Command } from 'commander';
import { loadConfig, type LoadedConfig } from '../config/load-config.ts';
import { PostroomError, errorMessage } from '../errors.ts';
import { createLogger, type Logger } from '../log.ts';
import { openStore, type OpenedStore } from '../store/open-store.ts';

export interface CommandContext {
  loaded: LoadedConfig;
  log: Logger;
}

/** Exit codes: 0 success, 1 the work failed, 2 bad usage or configuration. */
export const EXIT = Object.freeze({ ok: 0, failed: 1, usage: 2 });

export function globalOptions(command: Command): { config?: string } {
  return command.optsWithGlobals<{ config?: string }>();
}

export function loadContext(command: Command): CommandContext {
  const loaded = loadConfig(globalOptions(command).config);
  const log = createLogger({ level: loaded.config.log.level });
  for (const warning of loaded.warnings) log.warn(warning);
  return { loaded, log };
}

export async function openContextStore(context: CommandContext): Promise<OpenedStore> {
  const { config, baseDir } = context.loaded;
  return openStore(config.store, { baseDir, log: context.log, ...(config.contentDir ? { contentDir: config.contentDir } : {}) });
}

/** Runs a command body; prints a PostroomError as one clear paragraph and sets the exit code. */
export async function runCommand(body: () => Promise<number | void>): Promise<void> {
  try {
    process.exitCode = (await body()) ?? EXIT.ok;
  } catch (error) {
    const usage = error instanceof PostroomError && (error.code === 'CONFIG_INVALID' || error.code === 'CONFIG_NOT_FOUND' || error.code === 'CONNECTION_NOT_FOUND');
    process.stderr.write(`postroom: ${errorMessage(error)}\n`);
    if (!(error instanceof PostroomError) && process.env.POSTROOM_DEBUG) process.stderr.write(`${(error as Error).stack ?? ''}\n`);
    process.exitCode = usage ? EXIT.usage : EXIT.failed;
  }
}
