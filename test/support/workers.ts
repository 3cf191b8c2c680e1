/** Worker processes (`postroom run`) for cluster and crash tests: real processes, killed for real. */
import { type ChildProcess, spawn } from 'node:child_process';
import { CLI } from './cli.ts';
import { holdsWithin } from './wait-for.ts';

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  /** Everything the worker logged (stderr) and printed (stdout). */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): void;
}

export function spawnWorker(configPath: string, args: string[] = ['run'], env: NodeJS.ProcessEnv = {}): WorkerProcess {
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), CLI, '--config', configPath, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, pid: child.pid!, output: () => output, exited, kill: (signal = 'SIGTERM') => child.kill(signal) };
}

/** Worker processes are slow to change anything: asking four times a second is plenty. */
const WORKER_POLL_MS = 250;

/** Polls `condition` until it holds or `timeoutMs` passes; returns whether it held. */
export function waitFor(condition: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = WORKER_POLL_MS): Promise<boolean> {
  return holdsWithin(condition, timeoutMs, everyMs);
}
