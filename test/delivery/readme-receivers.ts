/**
 * The receivers the README shows, run as they are written: each code block after a
 * `<!-- receiver: <destination> <language> -->` line is taken from README.md, its port (8080)
 * swapped for a free one (and any other text the test names, such as a stream name), and started as a child process whose output the test reads.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/cli.ts';
import { waitFor } from '../support/wait-for.ts';

export async function readmeReceiver(destination: string, language: 'node' | 'python'): Promise<string> {
  const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');
  const marker = `<!-- receiver: ${destination} ${language} -->\n`;
  const at = readme.indexOf(marker);
  if (at === -1) throw new Error(`README.md has no ${marker.trim()}`);
  const block = /^```\w+\n([\s\S]*?)^```$/m.exec(readme.slice(at + marker.length));
  if (!block) throw new Error(`no code block after ${marker.trim()}`);
  return block[1]!;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface RunningReceiver {
  port: number;
  /** Lines the receiver printed so far. */
  lines(): string[];
  stop(): Promise<void>;
}

/**
 * Writes the README block into a directory of the checkout (so `import 'ioredis'` finds the
 * project's node_modules, as it would a reader's) and runs it; `ready` says when it is up.
 */
export async function runReadmeReceiver(
  destination: string,
  language: 'node' | 'python',
  env: Record<string, string>,
  ready: (port: number) => Promise<boolean>,
  replacements: Record<string, string> = {},
): Promise<RunningReceiver> {
  const port = await freePort();
  let code = (await readmeReceiver(destination, language)).replaceAll('8080', String(port));
  for (const [from, to] of Object.entries(replacements)) {
    if (!code.includes(from)) throw new Error(`the README's ${destination} ${language} receiver has no ${from}`);
    code = code.replaceAll(from, to);
  }
  await mkdir(join(REPO_ROOT, 'test-output'), { recursive: true });
  const dir = await mkdtemp(join(REPO_ROOT, 'test-output', 'readme-receiver-'));
  const file = join(dir, `${destination}-receiver.${language === 'node' ? 'mjs' : 'py'}`);
  await writeFile(file, code);
  const child: ChildProcess = spawn(language === 'node' ? process.execPath : 'python3', [file], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let errors = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitFor(
    `the README's ${destination} ${language} receiver to start`,
    async () => {
      if (child.exitCode !== null) throw new Error(`the receiver exited: ${errors}`);
      return ready(port);
    },
    10_000,
  );
  return {
    port,
    lines: () => output.split('\n').filter(Boolean),
    async stop() {
      child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** True once something accepts connections on the port. */
export async function listening(port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}
