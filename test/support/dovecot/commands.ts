/** Running a command to its exit, and reading the tail of a log. */
import { spawn } from 'node:child_process';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/**
 * Runs a command to its exit. stderr goes to a file, not a pipe: the Dovecot master daemonizes
 * and inherits the pipe, so waiting for pipes to close would wait for Dovecot to stop.
 */
export async function run(command: string, args: string[]): Promise<void> {
  const outputDir = await mkdtemp(path.join(os.tmpdir(), 'pr-run-'));
  const outputPath = path.join(outputDir, 'stderr');
  const output = await open(outputPath, 'w');
  try {
    const exitCode = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(command, args, { stdio: ['ignore', output.fd, output.fd] });
      child.once('error', reject);
      child.once('exit', (code) => resolve(code));
    });
    if (exitCode !== 0) {
      const text = (await readFile(outputPath, 'utf8')).trim();
      throw new Error(`${command} ${args.join(' ')} exited with ${exitCode}${text ? `: ${text}` : ''}`);
    }
  } finally {
    await output.close();
    await rm(outputDir, { recursive: true, force: true });
  }
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export async function tailFile(filePath: string, lines: number): Promise<string> {
  let text: string;
  try {
    text = await readFile(filePath, 'utf8');
  } catch {
    return '';
  }
  const all = text.split('\n');
  if (all.at(-1) === '') all.pop();
  return (Number.isFinite(lines) ? all.slice(-lines) : all).join('\n');
}

export function countOccurrences(text: string, needle: string): number {
  return text.split(needle).length - 1;
}
