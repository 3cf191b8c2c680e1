/** Starting, reloading and stopping the Dovecot master, and reading its log when that fails. */
import { rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { WaitTimeoutError, waitFor } from '../wait-for.ts';
import { countOccurrences, errorText, run, tailFile } from './commands.ts';
import { renderConfig } from './config.ts';
import { HOST, type Paths, type Ports } from './layout.ts';
import { childProcesses, isAlive, sameProcess, signal, waitUntilGone } from './linux-processes.ts';
import type { DovecotOptions } from './options.ts';

export const START_TIMEOUT_MS = 15_000;
export const STOP_TIMEOUT_MS = 10_000;
export const PORT_RETRIES = 5;

/** Masters started by this process, killed on exit so a crashed test leaves nothing behind. */
export const runningMasters = new Map<string, number>(); // temp dir -> master pid
export let exitHookInstalled = false;

/**
 * Starts the master on free ports. Ports are found by binding port 0 and released before
 * Dovecot binds them, so another process can grab one in between: then we retry on new ports.
 */
export async function launchOnFreePorts(paths: Paths, instanceName: string, options: Required<DovecotOptions>, preferred?: Ports): Promise<Ports> {
  let lastError: unknown;
  for (let attempt = 0; attempt < PORT_RETRIES; attempt++) {
    const ports = attempt === 0 && preferred ? preferred : await freePorts();
    await writeFile(paths.configPath, renderConfig(paths, instanceName, ports, options));
    try {
      await launchMaster(paths);
      await waitForListeners(paths, ports);
      return ports;
    } catch (error) {
      lastError = error;
      await stopMaster(paths).catch(() => undefined);
      if (!String(error).includes('Address already in use')) throw error;
    }
  }
  throw lastError;
}

export async function freePorts(): Promise<Ports> {
  // All four are held at once so the kernel hands out four distinct ports.
  const servers = await Promise.all([0, 1, 2, 3].map(() => listenOnEphemeralPort()));
  const ports = servers.map((server) => (server.address() as net.AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  const [imap, imaps, pop3, pop3s] = ports as [number, number, number, number];
  return { imap, imaps, pop3, pop3s };
}

export function listenOnEphemeralPort(): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => resolve(server));
  });
}

export async function launchMaster(paths: Paths): Promise<void> {
  try {
    // The master daemonizes: this returns once it has bound its listeners (or failed to).
    await run('dovecot', ['-c', paths.configPath]);
  } catch (error) {
    throw new Error(`Dovecot failed to start: ${errorText(error)}\n--- log ---\n${await tailFile(paths.logPath, 30)}`);
  }
  const pid = await readMasterPid(paths);
  if (pid !== undefined) runningMasters.set(paths.dir, pid);
}

/** Resolves once all four listeners answer: greetings on the plain ports, TCP accept on the TLS ones. */
export async function waitForListeners(paths: Paths, ports: Ports): Promise<void> {
  const _deadline = Date.now() + START_TIMEOUT_MS;
  const checks: Array<[number, string | undefined]> = [
    [ports.imap, '* OK'],
    [ports.imaps, undefined],
    [ports.pop3, '+OK'],
    [ports.pop3s, undefined],
  ];
  const started = Date.now();
  for (const [port, greeting] of checks) {
    let failure: string | undefined;
    const answered = async (): Promise<boolean> => {
      failure = await probe(port, greeting);
      if (failure === undefined) return true;
      const pid = runningMasters.get(paths.dir);
      if (pid !== undefined && !isAlive(pid)) throw new Error(`Dovecot exited during start-up\n--- log ---\n${await tailFile(paths.logPath, 30)}`);
      return false;
    };
    try {
      await waitFor(`Dovecot on ${HOST}:${port}`, answered, Math.max(0, START_TIMEOUT_MS - (Date.now() - started)), 50);
    } catch (error) {
      if (!(error instanceof WaitTimeoutError)) throw error;
      throw new Error(
        `Dovecot did not answer on ${HOST}:${port} within ${START_TIMEOUT_MS} ms (${failure})\n--- log ---\n${await tailFile(paths.logPath, 30)}`,
      );
    }
  }
}

/** Connects once; undefined when the port accepted (and sent `greeting`, if given), else why not. */
export function probe(port: number, greeting: string | undefined): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: HOST, port });
    let received = '';
    const finish = (failure: string | undefined): void => {
      socket.destroy();
      resolve(failure);
    };
    socket.setTimeout(2_000, () => finish('timed out'));
    socket.once('error', (error) => finish(error.message));
    socket.once('connect', () => {
      if (greeting === undefined) finish(undefined);
    });
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.includes('\n')) finish(received.startsWith(greeting ?? '') ? undefined : `unexpected greeting ${received.trim()}`);
    });
    socket.once('close', () => finish('closed before greeting'));
  });
}

export async function reloadDovecot(paths: Paths, ports: Ports): Promise<void> {
  const reloadsBefore = countOccurrences(await tailFile(paths.logPath, Infinity), 'reloading configuration');
  await run('dovecot', ['-c', paths.configPath, 'reload']);
  // SIGHUP is handled asynchronously: wait for the master to log it, then for the listeners
  // (which the master hands to processes started with the new settings).
  const reloaded = async (): Promise<boolean> => countOccurrences(await tailFile(paths.logPath, Infinity), 'reloading configuration') > reloadsBefore;
  await waitFor('Dovecot to log the reload', reloaded, START_TIMEOUT_MS).catch(async (error: unknown) => {
    if (!(error instanceof WaitTimeoutError)) throw error;
    throw new Error(`Dovecot did not log the reload\n--- log ---\n${await tailFile(paths.logPath, 30)}`);
  });
  await waitForListeners(paths, ports);
}

export async function stopMaster(paths: Paths): Promise<void> {
  const pid = (await readMasterPid(paths)) ?? runningMasters.get(paths.dir);
  runningMasters.delete(paths.dir);
  if (pid === undefined || !isAlive(pid)) return;
  // With shutdown_clients = no the mail processes outlive the master: end them ourselves.
  const children = childProcesses(pid);
  try {
    await stopMasterProcess(pid);
  } finally {
    for (const child of children) if (sameProcess(child)) signal(child.pid, 'SIGKILL');
  }
}

export async function stopMasterProcess(pid: number): Promise<void> {
  // What `dovecot -c <conf> stop` does, minus its coarse polling (about 0.5 s slower). The
  // master then needs about 2 s: it waits for its children and sleeps 1 s after telling the
  // stragglers to close their listeners. SIGKILL is no shortcut: orphaned children linger.
  signal(pid, 'SIGTERM');
  if (await waitUntilGone(pid, STOP_TIMEOUT_MS)) return;
  signal(pid, 'SIGKILL');
  if (!(await waitUntilGone(pid, 2_000))) throw new Error(`Dovecot master ${pid} survived SIGKILL`);
}

export async function readMasterPid(paths: Paths): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(path.join(paths.baseDir, 'master.pid'), 'utf8')).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Only synchronous work is possible on exit: signal what we started and do not wait.
  process.on('exit', stopAllSync);
  // A test run interrupted by a signal skips 'exit': clean up, then die of the signal as usual
  // unless someone else handles it.
  for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(name, () => {
      stopAllSync();
      if (process.listenerCount(name) === 0) process.kill(process.pid, name);
    });
  }
}

export function stopAllSync(): void {
  for (const [dir, pid] of runningMasters) {
    const children = childProcesses(pid);
    signal(pid, 'SIGTERM');
    // Mail sessions outlive the master (shutdown_clients = no).
    for (const child of children) signal(child.pid, 'SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
  runningMasters.clear();
}
