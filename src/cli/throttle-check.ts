/**
 * `postroom throttle-check [--connection NAME] "<server response line>"`: does Postroom treat this
 * line as throttling, which pattern matched, and how long would it wait? Like grep, it exits 0
 * when the line is throttling, 1 when it is not, 2 on bad usage.
 */
import type { Command } from 'commander';
import { formatDuration } from '../config/duration.ts';
import { findConfigFile } from '../config/load-config.ts';
import { configSchema } from '../config/schema.ts';
import { PostroomError } from '../model/errors.ts';
import { classify } from '../throttle/classify.ts';
import { signalFromLine } from '../throttle/line.ts';
import { throttlePolicyPatterns } from '../throttle/throttle-decision.ts';
import { EXIT, globalOptions, loadContext, runCommand } from './context.ts';

function findsConfig(): boolean {
  try {
    findConfigFile();
    return true;
  } catch {
    return false;
  }
}

export function registerThrottleCheck(program: Command): void {
  program
    .command('throttle-check <line>')
    .option('--connection <name>', "use this connection's throttlePattern and latency")
    .option('--protocol <protocol>', 'imap, pop3 or smtp (default: guessed from the line)')
    .action(async (line: string, options: { connection?: string; protocol?: string }, command: Command) =>
      runCommand(async () => {
        // Works without a config file too: then the default patterns and backoff apply.
        const config = globalOptions(command).config || options.connection || findsConfig() ? loadContext(command).loaded.config : configSchema.parse({});
        const connection = options.connection ? config.connections.find((c) => c.name === options.connection) : undefined;
        if (options.connection && !connection) {
          throw new PostroomError('CONNECTION_NOT_FOUND', `"${options.connection}"`, {
            hint: `Connections: ${config.connections.map((c) => c.name).join(', ') || 'none'}.`,
          });
        }
        if (options.protocol && !['imap', 'pop3', 'smtp'].includes(options.protocol)) {
          throw new PostroomError('CONFIG_INVALID', `--protocol must be imap, pop3 or smtp, not "${options.protocol}"`);
        }
        const base = connection ?? { name: '(global)', throttlePatternMode: 'extend' as const };
        const patterns = throttlePolicyPatterns(base as Parameters<typeof throttlePolicyPatterns>[0], config.throttle);
        const latencyMs = connection?.throttleLatency ?? config.throttle.latency;
        const signal = signalFromLine(line, options.protocol as 'imap' | 'pop3' | 'smtp' | undefined);
        const verdict = classify(signal, { patterns, ...(latencyMs !== undefined ? { latencyMs } : {}) }, { consecutive: 0, now: Date.now(), random: () => 1 });
        if (!verdict.throttled) {
          process.stdout.write(`not throttling: ${verdict.reason}\n`);
          return EXIT.failed;
        }
        process.stdout.write(`throttling: ${verdict.reason}\n`);
        process.stdout.write(`  matched: ${verdict.matched}\n`);
        process.stdout.write(
          `  wait:    ${formatDuration(verdict.waitMs)} (${verdict.waitSource === 'backoff' ? 'first step of the exponential backoff, doubling to 10m while it goes on' : verdict.waitSource})\n`,
        );
        if (verdict.slowDownOnly) process.stdout.write('  action:  slow down (the command still worked)\n');
        return EXIT.ok;
      }),
    );
}
