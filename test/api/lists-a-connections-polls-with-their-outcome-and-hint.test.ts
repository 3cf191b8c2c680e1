/**
 * GET /api/connections/:name/polls and /activity, for the connection page: the latest polls
 * newest first with their outcome (ok, failed, throttled), the error and what helps, how long a
 * throttled wait lasted, the lease holder, the current throttle; hourly counts over a day; 404
 * for a name no connection has.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PollHistory } from '../../src/api/schemas.ts';
import type { ConnectionInput } from '../../src/config/schema.ts';
import { type Workspace, workspace } from '../support/postroom.ts';
import { type ApiHarness, AUTH, jumpingClock, startApi } from './api-kit.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const shop = {
  name: 'shop',
  hostType: 'imap',
  host: '127.0.0.1',
  port: 1,
  useSsl: true,
  username: 'Shop',
  password: 'pw-shop-9',
  destination: 'out',
} as ConnectionInput;

describe('a connection’s polls through the API', () => {
  let ws: Workspace;
  let api: ApiHarness;
  const clock = jumpingClock();
  let now: number;

  before(async () => {
    ws = await workspace();
    api = await startApi(ws, { clock, connections: [shop, { ...shop, name: 'other' } as ConnectionInput] });
    now = clock.now();
    const { store } = api.opened;
    const base = { connection: 'shop', holder: 'vm:12934:4bfbdc', emails: 0, messages: 0, error: null };
    const at = (minutesAgo: number) => now - minutesAgo * MINUTE;
    await store.recordPoll({ ...base, startedAt: at(50), finishedAt: at(50) + 1_200, ok: true, emails: 3, messages: 6 }, at(49));
    await store.recordPoll(
      {
        ...base,
        startedAt: at(40),
        finishedAt: at(40) + 400,
        ok: false,
        error: 'The server refused the login: [AUTHENTICATIONFAILED] Authentication failed.',
        errorCode: 'AUTH_FAILED',
      },
      at(39),
    );
    await store.recordPoll({ ...base, startedAt: at(30), finishedAt: at(30) + 300, ok: true, throttled: true, error: 'throttled: server busy' }, at(20));
    await store.recordPoll({ ...base, startedAt: at(20), finishedAt: at(20) + 900, ok: true, emails: 1, messages: 2 }, at(19));
    await store.recordPoll(
      { ...base, startedAt: at(2), finishedAt: at(2) + 100, ok: true, throttled: true, error: 'throttled: too many logins' },
      now + 10 * MINUTE,
    );
    await store.recordPoll({ ...base, connection: 'other', startedAt: at(1), finishedAt: at(1) + 100, ok: true, emails: 9, messages: 9 }, now + MINUTE);
    await store.setThrottle({ account: '127.0.0.1/shop', until: now + 10 * MINUTE, reason: 'too many logins', since: at(2), consecutive: 1 });
    assert.ok(await store.acquireLease('shop', 'vm:12934:4bfbdc', 5 * MINUTE, now));
  });
  after(async () => {
    await api?.close();
    await ws?.dispose();
  });

  it('lists them newest first with outcome, error, hint, duration and how long a throttled wait lasted', async () => {
    const response = await api.app.inject({ method: 'GET', url: '/api/connections/shop/polls?limit=50', headers: AUTH });
    assert.equal(response.statusCode, 200);
    const body = response.json<PollHistory>();
    assert.equal(body.connection, 'shop');
    assert.deepEqual(
      body.polls.map((p) => [p.outcome, p.emails, p.messages, p.durationMs]),
      [
        ['throttled', 0, 0, 100],
        ['ok', 1, 2, 900],
        ['throttled', 0, 0, 300],
        ['failed', 0, 0, 400],
        ['ok', 3, 6, 1_200],
      ],
    );
    const [latestWait, read, earlierWait, failed, first] = body.polls;
    assert.equal(failed!.errorCode, 'AUTH_FAILED');
    assert.match(failed!.error ?? '', /AUTHENTICATIONFAILED/);
    assert.match(failed!.hint ?? '', /the password was changed on the server/, 'the hint for the code');
    assert.equal(first!.hint, null, 'no hint for a poll that worked');
    assert.equal(first!.error, null);
    assert.equal(first!.startedAt, new Date(now - 50 * MINUTE).toISOString());
    assert.equal(first!.holder, 'vm:12934:4bfbdc');
    assert.equal(earlierWait!.errorCode, 'THROTTLED');
    assert.equal(earlierWait!.error, 'throttled: server busy');
    assert.equal(earlierWait!.throttledUntil, read!.startedAt, 'a wait lasts until the next poll');
    assert.equal(latestWait!.throttledUntil, new Date(now + 10 * MINUTE).toISOString(), 'the latest wait: until the throttle ends');
    assert.equal(read!.throttledUntil, null);
    assert.deepEqual(body.lease, { holder: 'vm:12934:4bfbdc', until: new Date(now + 5 * MINUTE).toISOString() });
    assert.deepEqual(body.throttle, {
      until: new Date(now + 10 * MINUTE).toISOString(),
      reason: 'too many logins',
      since: new Date(now - 2 * MINUTE).toISOString(),
    });
  });

  it('keeps to the limit, and says nothing of another connection’s lease or polls', async () => {
    const two = (await api.app.inject({ method: 'GET', url: '/api/connections/shop/polls?limit=2', headers: AUTH })).json<PollHistory>();
    assert.deepEqual(
      two.polls.map((p) => p.outcome),
      ['throttled', 'ok'],
    );
    const other = (await api.app.inject({ method: 'GET', url: '/api/connections/other/polls', headers: AUTH })).json<PollHistory>();
    assert.deepEqual(
      other.polls.map((p) => p.emails),
      [9],
    );
    assert.equal(other.lease, null);
    const bad = await api.app.inject({ method: 'GET', url: '/api/connections/shop/polls?limit=0', headers: AUTH });
    assert.equal(bad.statusCode, 400);
  });

  it('sums the connection’s emails per hour over the last 24 hours', async () => {
    const response = await api.app.inject({ method: 'GET', url: '/api/connections/shop/activity', headers: AUTH });
    assert.equal(response.statusCode, 200);
    const body = response.json<{ start: string; bucketMs: number; emails: number[]; messages: number[] }>();
    assert.equal(body.bucketMs, HOUR);
    assert.equal(body.emails.length, 24);
    assert.equal(Date.parse(body.start), (Math.floor(now / HOUR) - 23) * HOUR);
    assert.equal(
      body.emails.reduce((a, b) => a + b, 0),
      4,
      'shop’s 3 + 1 emails, not other’s 9',
    );
    assert.equal(
      body.messages.reduce((a, b) => a + b, 0),
      8,
    );
  });

  it('answers 404 for a name no connection has', async () => {
    for (const url of ['/api/connections/nobody/polls', '/api/connections/nobody/activity']) {
      const response = await api.app.inject({ method: 'GET', url, headers: AUTH });
      assert.equal(response.statusCode, 404, url);
      assert.equal(response.json().error, 'CONNECTION_NOT_FOUND');
    }
  });
});
