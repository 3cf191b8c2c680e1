/**
 * A PostgreSQL of one test's own, from the binaries Debian's postgresql package installs
 * (/usr/lib/postgresql/<version>/bin): initdb in a temp dir, then a postmaster on a free loopback
 * port, so a test can stop it, crash it and start it again without disturbing the shared server.
 * initdb refuses to run as root: when the test runs as root, the cluster is made and run as the
 * `postgres` user, in a directory that user owns. Returns a reason to skip when neither works.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const POSTGRES_BIN = '/usr/lib/postgresql';
/** How long a start or stop may take on a busy machine. */
const READY_MS = 60_000;

export interface PrivatePostgres {
  port: number;
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  /** Stops the server; `immediate` is a crash (no checkpoint, clients cut at once). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
  dispose(): Promise<void>;
}

function binDir(): string | undefined {
  if (!existsSync(POSTGRES_BIN)) return undefined;
  const versions = readdirSync(POSTGRES_BIN)
    .filter((v) => existsSync(join(POSTGRES_BIN, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(POSTGRES_BIN, versions[0], 'bin') : undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export async function privatePostgres(): Promise<PrivatePostgres | { skip: string }> {
  const bin = binDir();
  if (!bin) return { skip: `no PostgreSQL binaries under ${POSTGRES_BIN} (Debian's postgresql package)` };
  const asRoot = userInfo().uid === 0;
  const dir = await mkdtemp(join(tmpdir(), 'postroom-pg-'));
  const data = join(dir, 'data');
  /** Runs a PostgreSQL program as the user who owns the cluster. */
  const as = (program: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, program), ...args]) : run(join(bin, program), args);
  try {
    if (asRoot) {
      const { stdout } = await run('id', ['-u', 'postgres']);
      const { stdout: gid } = await run('id', ['-g', 'postgres']);
      await chown(dir, Number(stdout.trim()), Number(gid.trim()));
    }
    await as('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    return { skip: `could not make a private PostgreSQL cluster: ${(error as Error).message.split('\n')[0]}` };
  }
  const port = await freePort();
  const options = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
  const pg: PrivatePostgres = {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async start() {
      await as('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', '-t', String(READY_MS / 1000), 'start']);
    },
    async stop(mode = 'fast') {
      await as('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', String(READY_MS / 1000), 'stop']);
    },
    async dispose() {
      await pg.stop('immediate').catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
  await pg.start();
  return pg;
}
