/**
 * `postroom poll <name>`, `pause <name>`, `resume <name>`: the operator's controls, through the
 * store, so the running service (every worker sharing the store) acts on them within a tick.
 * `poll` waits for the poll to be recorded and says what it did. Each is recorded with who ran
 * it (the user's name) and when, in the connection's controls.
 */
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { PostroomError } from '../model/errors.ts';
import { EXIT, loadContext, openContextStore, runCommand } from './context.ts';

/** How long `poll` waits for a running service to pick the request up and finish the poll. */
const POLL_WAIT_MS = 120_000;
const POLL_CHECK_MS = 250;

const byWhom = (): string => `CLI (${userInfo().username})`;

export function registerConnectionControls(program: Command, verb: 'poll' | 'pause' | 'resume'): void {
  const descriptions = {
    poll: 'poll a connection now (the running service does it within a second) and say what the poll did',
    pause: 'pause a connection on every worker: no polls, its lease let go, until resumed (the outbox still delivers)',
    resume: 'resume a paused connection: polled at once, then on its interval',
  };
  program
    .command(`${verb} <name>`)
    .description(descriptions[verb])
    .action(async (name: string, _options: unknown, command: Command) =>
      runCommand(async () => {
        const context = loadContext(command);
        const opened = await openContextStore(context);
        const { store } = opened;
        try {
          const known = context.loaded.config.connections.some((c) => c.name === name) || (await store.getConnectionState(name)) !== undefined;
          if (!known) throw new PostroomError('CONNECTION_NOT_FOUND', `"${name}": see \`postroom status\` for the names`);
          const state = await store.getConnectionState(name);
          // The store's clock where workers align to it (PostgreSQL), so the poll a poll now
          // causes is the first to start after it on the workers' clock too.
          const at = (await store.databaseTime?.()) ?? Date.now();
          if (verb === 'pause') {
            await store.recordControl({ connection: name, action: 'pause', by: byWhom(), at });
            process.stdout.write(`${name}: paused by ${byWhom()}; every worker stops polling it within a second (resume with \`postroom resume ${name}\`)\n`);
            return EXIT.ok;
          }
          if (verb === 'resume') {
            await store.recordControl({ connection: name, action: 'resume', by: byWhom(), at });
            process.stdout.write(`${name}: ${state?.pausedBy ? `resumed (was paused by ${state.pausedBy})` : 'was not paused'}; due for a poll now\n`);
            return EXIT.ok;
          }
          if (state?.pausedBy) throw new PostroomError('CONNECTION_PAUSED', `"${name}" (paused by ${state.pausedBy})`);
          const before = state?.lastPoll?.startedAt ?? 0;
          await store.recordControl({ connection: name, action: 'poll', by: byWhom(), at });
          for (let waited = 0; waited < POLL_WAIT_MS; waited += POLL_CHECK_MS) {
            await new Promise((resolve) => setTimeout(resolve, POLL_CHECK_MS));
            const last = (await store.getConnectionState(name))?.lastPoll;
            if (last && last.startedAt > before && last.startedAt >= at - 1_000) {
              process.stdout.write(
                `${name}: polled ${last.ok ? 'ok' : 'FAILED'}: ${last.emails} email(s), ${last.messages} pipeline message(s) in ${last.finishedAt - last.startedAt} ms${last.error ? ` (${last.error})` : ''}\n`,
              );
              return last.ok ? EXIT.ok : EXIT.failed;
            }
          }
          process.stdout.write(
            `${name}: due now, but no running service polled it within ${POLL_WAIT_MS / 1000} s (is \`postroom run\` running? \`postroom run --once\` polls without it)\n`,
          );
          return EXIT.failed;
        } finally {
          await store.close();
        }
      }),
    );
}
