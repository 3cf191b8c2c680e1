import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { writeConfigFile } from '../support/cli.ts';
import { makeEmail } from '../support/corpus.ts';
import { dovecotAndWorkspace } from '../support/dovecot-and-workspace.ts';
import { imapConnection, readDelivered } from '../support/postroom.ts';
import { type PrivatePostgres, privatePostgres } from '../support/private-postgres.ts';
import { waitFor, waitForValue } from '../support/wait-for.ts';
import { spawnWorker, type WorkerProcess } from '../support/workers.ts';

const BEFORE = 60;
const DURING = 10;
/** Worker processes on a busy machine: generous, only ever waited out when something is wrong. */
const WAIT_MS = 90_000;

const { dovecot, ws } = await dovecotAndWorkspace();
const pg = await privatePostgres();
const skip = 'skip' in pg ? pg.skip : false;
let worker: WorkerProcess | undefined;
after(async () => {
  worker?.kill('SIGKILL');
  if (!('skip' in pg)) await pg.dispose();
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const seen = async (user: string): Promise<number> => (await dovecot.listMessages(user)).filter((m) => m.flags.includes('\\Seen')).length;
const deliveredFiles = async (dir: string): Promise<number> => (await readdir(dir).catch(() => [])).filter((n) => n.endsWith('.json')).length;

describe('PostgreSQL restarted mid-run', { skip }, () => {
  const db = pg as PrivatePostgres;

  it('keeps the work in flight safe, acknowledges nothing new while the store is down, says so on /healthz and in the log, and resumes exactly once', {
    timeout: 4 * WAIT_MS,
  }, async () => {
    const user = await dovecot.addUser('pgrestart', 'secret-pgrestart');
    const mail = (i: number) => makeEmail({ subject: `pg ${i}`, text: `email ${i}\n` }).raw;
    await dovecot.deliverMany(
      user.name,
      Array.from({ length: BEFORE }, (_, i) => mail(i)),
    );
    const port = await freePort();
    const schema = `t_${randomBytes(6).toString('hex')}`;
    const configPath = await writeConfigFile(ws.dir, {
      store: `${db.url}?schema=${schema}`,
      destinations: { out: { type: 'directory', path: ws.outDir } },
      connections: [{ ...imapConnection(dovecot, user, { pollingInterval: '1s' }), tls: { ca: dovecot.caPath } }],
      api: { listen: `127.0.0.1:${port}` },
      retry: { interval: '1s' },
      log: { level: 'info' },
    });
    worker = spawnWorker(configPath);
    const health = async () => {
      // Bounded: one answer that never comes must not use up the whole wait.
      const response = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
      return response && { status: response.status, body: (await response.json()) as { status: string; store: string } };
    };
    await waitFor('the first deliveries', async () => (await deliveredFiles(ws.outDir)) > 0, WAIT_MS, 50);

    // A crash of the database server, with the worker mid-run.
    await db.stop('immediate');
    await dovecot.deliverMany(
      user.name,
      Array.from({ length: DURING }, (_, i) => mail(BEFORE + i)),
    );
    let lastAnswer: Awaited<ReturnType<typeof health>>;
    const down = await waitForValue(
      '/healthz to report the store down',
      async () => {
        lastAnswer = await health();
        return lastAnswer?.status === 503 ? lastAnswer : undefined;
      },
      WAIT_MS,
      100,
    ).catch((error: Error) => {
      // What the worker was doing says why: still answering 200, not answering, or gone.
      throw new Error(
        `${error.message}; last answer ${JSON.stringify(lastAnswer)}, worker exit code ${worker!.child.exitCode}, its output:\n${worker!.output().slice(-4000)}`,
      );
    });
    assert.equal(down.body.status, 'unavailable');
    assert.match(
      down.body.store,
      new RegExp(
        `^The store could not be read or written: the store at PostgreSQL 127\\.0\\.0\\.1:${db.port}/postgres does not answer \\(.+\\)\\. Nothing was lost: no email is acknowledged on the server and no message marked delivered until the store has it; workers reconnect by themselves`,
      ),
    );
    await waitFor('the scheduler to pause', () => worker!.output().includes('the scheduler paused: The store could not be read or written'), WAIT_MS, 100);
    const seenWhileDown = await seen(user.name);
    await delay(3_000);
    assert.equal(await seen(user.name), seenWhileDown, 'no email acknowledged while the store is down');
    assert.equal(worker.child.exitCode, null, 'the worker is still running');

    await db.start();
    await waitFor('/healthz to report the store up', async () => (await health())?.status === 200, WAIT_MS, 200);
    await waitFor('every email delivered', async () => (await deliveredFiles(ws.outDir)) >= BEFORE + DURING, WAIT_MS, 200);
    await waitFor('every email acknowledged', async () => (await seen(user.name)) === BEFORE + DURING, WAIT_MS, 200);
    const subjects = (await readDelivered(ws.outDir)).map((d) => d.envelope.email.subject);
    assert.equal(subjects.length, BEFORE + DURING, 'no pipeline message twice');
    assert.equal(new Set(subjects).size, BEFORE + DURING, 'every email exactly once');
    assert.match(worker.output(), /the scheduler resumed: the store answers again/);

    worker.kill('SIGTERM');
    assert.equal((await worker.exited).code, 0, worker.output().slice(-3000));
  });
});
