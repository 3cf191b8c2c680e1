/**
 * The connection page's store queries on both backends: one connection's latest polls newest
 * first (throttled waits told apart from reads), and its polls summed per hour.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PollRecord } from '../../src/store/store.ts';
import { STORE_BACKENDS } from '../support/stores.ts';

const HOUR = 3_600_000;
const T0 = 1_700_002_800_000; // a whole hour

const poll = (connection: string, startedAt: number, extra: Partial<PollRecord> = {}): PollRecord => ({
  connection,
  holder: 'vm:12934:4bfbdc',
  startedAt,
  finishedAt: startedAt + 250,
  ok: true,
  emails: 0,
  messages: 0,
  error: null,
  ...extra,
});

for (const backend of STORE_BACKENDS) {
  describe(`one connection's poll history on ${backend.name}`, () => {
    it('lists the latest polls newest first, at most the limit, with failures and throttled waits as they were', async () => {
      const opened = await backend.open();
      try {
        const { store } = opened;
        await store.recordPoll(poll('shop', T0, { emails: 3, messages: 6 }), T0 + 60_000);
        await store.recordPoll(poll('shop', T0 + 60_000, { ok: false, error: 'The server refused the login', errorCode: 'AUTH_FAILED' }), T0 + 120_000);
        await store.recordPoll(poll('shop', T0 + 120_000, { throttled: true, error: 'throttled: busy' }), T0 + 900_000);
        await store.recordPoll(poll('other', T0 + 130_000, { emails: 9, messages: 9 }), T0 + 190_000);
        await store.recordPoll(poll('shop', T0 + 900_000, { emails: 1, messages: 2 }), T0 + 960_000);

        const polls = await store.recentPolls('shop', 50);
        assert.deepEqual(
          polls.map((p) => [p.startedAt - T0, p.ok, p.emails, p.errorCode ?? null, p.throttled ?? false]),
          [
            [900_000, true, 1, null, false],
            [120_000, true, 0, 'THROTTLED', true],
            [60_000, false, 0, 'AUTH_FAILED', false],
            [0, true, 3, null, false],
          ],
        );
        assert.equal(polls[2]!.error, 'The server refused the login');
        assert.equal(polls[0]!.finishedAt - polls[0]!.startedAt, 250);
        assert.equal(polls[0]!.holder, 'vm:12934:4bfbdc');
        assert.deepEqual(
          (await store.recentPolls('shop', 2)).map((p) => p.startedAt - T0),
          [900_000, 120_000],
          'the limit keeps the newest',
        );
        assert.deepEqual(await store.recentPolls('nobody', 50), []);
      } finally {
        await opened.dispose();
      }
    });

    it('sums one connection’s polls per hour, leaving the others out', async () => {
      const opened = await backend.open();
      try {
        const { store } = opened;
        await store.recordPoll(poll('shop', T0 + 5_000, { emails: 2, messages: 3 }), T0 + HOUR);
        await store.recordPoll(poll('shop', T0 + 40 * 60_000, { emails: 1, messages: 1 }), T0 + HOUR);
        await store.recordPoll(poll('other', T0 + 10_000, { emails: 7, messages: 7 }), T0 + HOUR);
        await store.recordPoll(poll('shop', T0 + 2 * HOUR + 1, { emails: 4, messages: 8 }), T0 + 3 * HOUR);
        assert.deepEqual(await store.pollActivity(T0, HOUR, 'shop'), [
          { at: T0, polls: 2, emails: 3, messages: 4 },
          { at: T0 + 2 * HOUR, polls: 1, emails: 4, messages: 8 },
        ]);
        assert.deepEqual(
          (await store.pollActivity(T0, HOUR)).map((bucket) => bucket.emails),
          [10, 4],
          'without a connection: every connection, as before',
        );
      } finally {
        await opened.dispose();
      }
    });
  });
}
