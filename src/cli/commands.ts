/**
 * Every command, one line each: how `postroom --help` lists it, and its module, loaded only when
 * the command is invoked (so `--help` and every command load only what they use). Adding a
 * command touches its own file and one line here.
 */
import type { Command } from 'commander';

export interface CommandEntry {
  /** The command as the help lists it: name, [options] when it has any, arguments. */
  term: string;
  summary: string;
  /** The command's module: it adds the command, its arguments, options and action to `program`. */
  load(): Promise<(program: Command) => void>;
}

export const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  run: {
    term: 'run [options]',
    summary: 'run the service: poll every connection on its schedule and deliver pipeline messages',
    load: async () => (await import('./run.ts')).registerRun,
  },
  check: {
    term: 'check [name]',
    summary: 'test a connection (or all): DNS, TCP, TLS, login, folder',
    load: async () => (await import('./check.ts')).registerCheck,
  },
  validate: {
    term: 'validate',
    summary: 'check the configuration file and print what it means',
    load: async () => (await import('./validate.ts')).registerValidate,
  },
  preview: {
    term: 'preview [options] <connection>',
    summary: 'list the emails the next poll would see, each taken or left and why, without changing anything',
    load: async () => (await import('./preview.ts')).registerPreview,
  },
  rescan: {
    term: 'rescan <connection>',
    summary: 'judge again, at the next poll, the emails a filter left alone that are still on the server',
    load: async () => (await import('./rescan.ts')).registerRescan,
  },
  status: { term: 'status [options]', summary: 'show what every connection is doing', load: async () => (await import('./status.ts')).registerStatus },
  trace: {
    term: 'trace [options] [words...]',
    summary: "where did my email go? find emails by words, sender, subject, Message-ID, date or state, and show one's trail",
    load: async () => (await import('./trace.ts')).registerTrace,
  },
  'dead-letters': {
    term: 'dead-letters',
    summary: 'pipeline messages that could not be delivered (catastrophic retry)',
    load: async () => (await import('./dead-letters.ts')).registerDeadLetters,
  },
  replay: {
    term: 'replay [options] <ids...>',
    summary: 'send pipeline messages to their destination again (a dead letter, or a delivered one a downstream system lost) and say what happened',
    load: async () => (await import('./replay.ts')).registerReplay,
  },
  poll: {
    term: 'poll <name>',
    summary: 'poll a connection now (through the running service) and say what the poll did',
    load: async () => {
      const { registerConnectionControls } = await import('./connection-controls.ts');
      return (program) => registerConnectionControls(program, 'poll');
    },
  },
  pause: {
    term: 'pause <name>',
    summary: 'pause a connection on every worker (no polls, lease let go) until resumed',
    load: async () => {
      const { registerConnectionControls } = await import('./connection-controls.ts');
      return (program) => registerConnectionControls(program, 'pause');
    },
  },
  resume: {
    term: 'resume <name>',
    summary: 'resume a paused connection: polled at once, then on its interval',
    load: async () => {
      const { registerConnectionControls } = await import('./connection-controls.ts');
      return (program) => registerConnectionControls(program, 'resume');
    },
  },
  'throttle-check': {
    term: 'throttle-check [options] <line>',
    summary:
      'tell whether a server response line counts as throttling (exit 0 yes, 1 no, 2 bad usage); put -- before a line that starts with -, e.g. throttle-check -- "-ERR [IN-USE] locked"',
    load: async () => (await import('./throttle-check.ts')).registerThrottleCheck,
  },
};
