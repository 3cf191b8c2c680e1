/**
 * Issue 21 through the real service (`postroom run` in a child process, Dovecot, a webhook
 * receiver on loopback): a webhook configured wrong sends an email's messages to the dead letters;
 * the operator fixes postroom.yaml, reloads the running service (SIGHUP, then the API), replays
 * through the API, and the receiver gets each message once with its id. An invalid edit is
 * refused with validate's error naming the field, and the destination running goes on working.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { sampleEmail } from '../api/api-kit.ts';
import { writeConfigFile } from '../support/cli.ts';
import { type Dovecot, type DovecotUser, startDovecot } from '../support/dovecot.ts';
import { imapConnection, type Workspace, workspace } from '../support/postroom.ts';
import { waitForValue } from '../support/wait-for.ts';
import { spawnWorker, type WorkerProcess } from '../support/workers.ts';

/** Long enough for a poll and a delivery on a busy 2-core machine. */
const WAIT_MS = 30_000;
const API_TOKEN = 'reload-test-token-5c81e2a4';
/** The receiver's bearer token: in the service's environment only, never in the file or the log. */
const RECEIVER_TOKEN = 'receiver-token-9f3b77d0c2';

interface Received {
  path: string;
  id: string;
  status: number;
}

/** Takes POSTs at /hooks/right with the right bearer token (204); 404 anywhere else, 401 with another token. */
async function startReceiver(): Promise<{ url: (path: string) => string; requests: Received[]; close(): Promise<void> }> {
  const requests: Received[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0]!;
      const status = path !== '/hooks/right' ? 404 : req.headers.authorization !== `Bearer ${RECEIVER_TOKEN}` ? 401 : 204;
      requests.push({ path, id: String(req.headers['idempotency-key']), status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('reloading the destinations of a running service from its config file', () => {
  let dovecot: Dovecot;
  let user: DovecotUser;
  let ws: Workspace;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let service: WorkerProcess;
  let configPath: string;
  let apiUrl: string;

  const configWith = (hooks: Record<string, unknown>, more: Record<string, unknown> = {}) => ({
    store: ws.dataDir,
    api: { listen: '127.0.0.1:0', token: API_TOKEN },
    destinations: { hooks: { type: 'webhook', ...hooks }, files: { type: 'directory', path: ws.outDir }, ...more },
    connections: [imapConnection(dovecot, user, { name: 'orders', destination: 'hooks', pollingInterval: '1h', idle: false })],
  });
  const writeConfig = (config: unknown) => writeConfigFile(ws.dir, config);
  const call = async (method: 'GET' | 'POST', path: string) => {
    const response = await fetch(`${apiUrl}${path}`, { method, headers: { authorization: `Bearer ${API_TOKEN}`, 'x-postroom-request': '1' } });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> & Array<Record<string, unknown>> };
  };
  const deadLetters = async (n: number) =>
    waitForValue(
      `${n} dead letters`,
      async () => {
        const { body } = await call('GET', '/api/dead-letters');
        return body.length === n ? body.map((d) => String(d.id)).sort() : undefined;
      },
      WAIT_MS,
    );
  /** Delivers a new email and has the service poll it now. */
  const newEmail = async (subject: string) => {
    await dovecot.append(user.name, sampleEmail(subject));
    const poll = await call('POST', '/api/connections/orders/poll');
    assert.equal(poll.status, 200, JSON.stringify(poll.body));
    assert.equal(poll.body.messages, 2, 'body and attachment');
  };
  const acceptedIds = () =>
    receiver.requests
      .filter((r) => r.status === 204)
      .map((r) => r.id)
      .sort();
  const replayAll = async () => {
    const replay = await call('POST', '/api/dead-letters/replay-all');
    assert.equal(replay.status, 200);
    return replay.body;
  };

  before(async () => {
    [dovecot, ws, receiver] = await Promise.all([startDovecot(), workspace(), startReceiver()]);
    user = await dovecot.addUser('orders', 'pw-orders-reload-1');
    await dovecot.deliver(user.name, sampleEmail('first order'));
    // The wrong URL: the receiver answers 404, a refusal for good, so both parts are dead letters at once.
    configPath = await writeConfig(configWith({ url: receiver.url('/hooks/wrong'), headers: { Authorization: 'Bearer ${RECEIVER_TOKEN}' } }));
    service = spawnWorker(configPath, ['run'], { RECEIVER_TOKEN });
    apiUrl = await waitForValue('the API address', () => /REST API: (http:\/\/\S+?)\/?\n/.exec(service.output())?.[1], WAIT_MS);
  });
  after(async () => {
    service?.kill('SIGTERM');
    await Promise.race([service?.exited, new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
    service?.kill('SIGKILL');
    await receiver?.close();
    await dovecot?.stop();
    await ws?.dispose();
  });

  it('on SIGHUP: a fixed URL is used by the replay, and each dead letter reaches the receiver once with its id', async () => {
    const dead = await deadLetters(2);
    assert.ok(
      receiver.requests.every((r) => r.path === '/hooks/wrong'),
      'so far only the wrong URL was tried',
    );

    await writeConfig(configWith({ url: receiver.url('/hooks/right'), headers: { Authorization: 'Bearer ${RECEIVER_TOKEN}' } }));
    service.kill('SIGHUP');
    const line = await waitForValue('the reload log line', () => /[^\n]*destinations reloaded[^\n]*/.exec(service.output())?.[0], WAIT_MS);
    assert.match(line, /asked by SIGHUP/);
    assert.match(line, /changed: hooks \(url\)/, 'names the destination and the field that changed');

    const replay = await replayAll();
    assert.deepEqual({ replayed: replay.replayed, delivered: replay.delivered, failed: replay.failed }, { replayed: 2, delivered: 2, failed: 0 });
    assert.deepEqual(acceptedIds(), dead, 'each message once, with the id it had as a dead letter');
    assert.deepEqual((await call('GET', '/api/dead-letters')).body, []);
  });

  it('through the API: the answer names what changed; ${VAR} comes from the service environment; an added destination waits for a restart', async () => {
    // Break it through a reload: a token the receiver refuses (401, a refusal for good).
    await writeConfig(configWith({ url: receiver.url('/hooks/right'), headers: { Authorization: 'Bearer expired-token' } }));
    const broke = await call('POST', '/api/destinations/reload');
    assert.equal(broke.status, 200, JSON.stringify(broke.body));
    assert.deepEqual(broke.body.changed, [{ name: 'hooks', type: 'webhook', fields: ['headers'] }]);
    await newEmail('second order');
    const dead = await deadLetters(2);

    // Fixed: the token from the service's own environment again, and a new destination the service cannot add running.
    await writeConfig(
      configWith(
        { url: receiver.url('/hooks/right'), headers: { Authorization: 'Bearer ${RECEIVER_TOKEN}' } },
        { archive: { type: 'directory', path: `${ws.dir}/archive` } },
      ),
    );
    const fixed = await call('POST', '/api/destinations/reload');
    assert.equal(fixed.status, 200, JSON.stringify(fixed.body));
    assert.equal(fixed.body.file, configPath);
    assert.deepEqual(fixed.body.changed, [{ name: 'hooks', type: 'webhook', fields: ['headers'] }]);
    assert.deepEqual(fixed.body.unchanged, ['files']);
    const notApplied = fixed.body.notApplied as Array<{ name: string; reason: string }>;
    assert.deepEqual(
      notApplied.map((n) => n.name),
      ['archive'],
    );
    assert.match(notApplied[0]!.reason, /added.*restart/);
    const listed = await call('GET', '/api/destinations');
    assert.deepEqual(listed.body.map((d) => d.name).sort(), ['files', 'hooks'], 'not half-added');

    const before = acceptedIds().length;
    const replay = await replayAll();
    assert.equal(replay.delivered, 2, JSON.stringify(replay));
    const now = acceptedIds();
    assert.equal(now.length, before + 2);
    for (const id of dead) assert.equal(now.filter((accepted) => accepted === id).length, 1, `${id} delivered once`);
  });

  it('refuses an invalid edit with the field and the fix, changes nothing, and the running destination goes on delivering', async () => {
    await writeConfig(configWith({ url: 'not a url', headers: { Authorization: 'Bearer ${RECEIVER_TOKEN}' } }));
    const refused = await call('POST', '/api/destinations/reload');
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, 'CONFIG_INVALID');
    assert.match(
      String(refused.body.message),
      /postroom\.yaml:\d+: destinations\.hooks\.url: give the URL to POST pipeline messages to/,
      'as validate says it',
    );
    assert.deepEqual(
      (refused.body.issues as Array<{ path: string }>).map((issue) => issue.path),
      ['destinations.hooks.url'],
    );
    service.kill('SIGHUP');
    await waitForValue(
      'the refused reload in the log',
      () => /destinations not reloaded \(asked by SIGHUP\): nothing changed[^\n]*destinations\.hooks\.url/.exec(service.output())?.[0],
      WAIT_MS,
    );

    const before = acceptedIds().length;
    await newEmail('third order');
    await waitForValue('the third email at the receiver', () => (acceptedIds().length === before + 2 ? true : undefined), WAIT_MS);
    assert.deepEqual((await call('GET', '/api/dead-letters')).body, []);
    assert.ok(!service.output().includes(RECEIVER_TOKEN), 'the secret from the environment never reaches the log');
  });
});
