/** What most commands need: the config, the store, a logger (exit codes and error printing: run-command.ts). */
import type { Command } from 'commander';
import { type LoadedConfig, loadConfig } from '../config/load-config.ts';
import { createLogger, type Logger } from '../model/log.ts';
import { type OpenedStore, openStore } from '../store/open-store.ts';
import { globalOptions } from './run-command.ts';

export { EXIT, globalOptions, runCommand } from './run-command.ts';

export interface CommandContext {
  loaded: LoadedConfig;
  log: Logger;
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
