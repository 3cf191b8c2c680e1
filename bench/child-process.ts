/**
 * Runs a command as a child process and measures it from outside: wall time from spawn to exit,
 * peak resident memory read from the kernel (/proc/<pid>/status VmHWM, the high-water mark, so a
 * sample taken late still sees an early peak), and CPU time (/proc/<pid>/stat utime + stime, as
 * last sampled): on a shared machine, CPU time says what the work cost when wall time cannot.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export const REPO_ROOT = join(import.meta.dirname, '..');
/** The real `postroom` command, as a user runs it from a checkout. */
export const POSTROOM_BIN = join(REPO_ROOT, 'bin', 'postroom.js');
/** The flags `npm start` and bin/postroom.js's shebang give node (test/cli checks the three agree). */
export const POSTROOM_NODE_FLAGS = ['--max-semi-space-size=8'];

/** VmHWM only grows; sampling often enough to read it once more just before the process exits. */
const SAMPLE_EVERY_MS = 50;
/** USER_HZ: the unit of utime and stime in /proc/<pid>/stat on Linux. */
const CLOCK_TICKS_PER_SECOND = 100;

export interface Measured {
  code: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
  peakRssBytes: number;
  /** CPU time (user + system) of the process itself, to within one sample before it exited. */
  cpuMs: number;
  stdout: string;
  stderr: string;
}

export interface MeasuredChild {
  child: ChildProcess;
  /** Everything printed so far (stdout + stderr). */
  output(): string;
  /** Peak RSS seen so far. */
  peakRssBytes(): number;
  done: Promise<Measured>;
}

export async function readPeakRss(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined; // gone already
  }
}

/** utime + stime of the process, in ms. */
export async function readCpuMs(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces), from field 3 on: utime is 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

export function startMeasured(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): MeasuredChild {
  const started = performance.now();
  const child = spawn(command, args, { cwd: options.cwd ?? REPO_ROOT, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let peak = 0;
  let cpuMs = 0;
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const sample = async (): Promise<void> => {
    if (!child.pid) return;
    const [rss, cpu] = await Promise.all([readPeakRss(child.pid), readCpuMs(child.pid)]);
    if (rss !== undefined) peak = Math.max(peak, rss);
    if (cpu !== undefined) cpuMs = Math.max(cpuMs, cpu);
  };
  const sampler = setInterval(() => void sample(), SAMPLE_EVERY_MS);
  const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs) : undefined;
  const done = new Promise<Measured>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const ms = performance.now() - started;
      clearInterval(sampler);
      if (timer) clearTimeout(timer);
      // stdio may still be flushing: wait for the streams to close.
      child.on('close', () => resolve({ code, signal, ms, peakRssBytes: peak, cpuMs, stdout, stderr }));
    });
  });
  return { child, output: () => stdout + stderr, peakRssBytes: () => peak, done };
}

export function runMeasured(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Measured> {
  return startMeasured(command, args, options).done;
}

/** A TypeScript file of this repository run by node through tsx, like the CLI in a checkout. */
export function tsArgs(file: string, args: string[]): string[] {
  return ['--import', 'tsx', join(REPO_ROOT, file), ...args];
}
