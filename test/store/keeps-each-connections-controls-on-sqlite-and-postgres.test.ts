/**
 * Operators' controls in the store, on both backends: pause, resume and poll now recorded with
 * who and when, and acted on in the same write (the pause, the due time); a poll now marks the
 * next poll of its connection after the request as asked for, never one that started before it;
 * and the controls are kept as long as the polls are, a day.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PollRecord } from '../../src/store/store.ts';
import { STORE_BACKENDS } from '../support/stores.ts';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const T0 = 1_700_002_800_000;

const poll = (connection: string, startedAt: number, extra: Partial<PollRecord> = {}): PollRecord => ({
  connection,
  holder: 'vm:12934:4bfbdc',
  startedAt,
  finishedAt: startedAt + 5_000,
  ok: true,
  emails: 0,
  messages: 0,
  error: null,
  ...extra,
});

for (const backend of STORE_BACKENDS) {
  describe(`operator controls on ${backend.name}`, () => {
    it('records pause, resume and poll now with who and when, newest first, and acts on each', async () => {
      const opened = await backend.open();
      try {
        const { store } = opened;
        await store.recordControl({ connection: 'orders', action: 'pause', by: 'CLI (alice)', at: T0 });
        let state = await store.getConnectionState('orders');
        assert.deepEqual({ by: state?.pausedBy, at: state?.pausedAt }, { by: 'CLI (alice)', at: T0 }, 'paused, by whom');
        await store.recordControl({ connection: 'orders', action: 'resume', by: 'API from 127.0.0.1', at: T0 + MINUTE });
        state = await store.getConnectionState('orders');
        assert.deepEqual({ by: state?.pausedBy, due: state?.nextDueAt }, { by: null, due: T0 + MINUTE }, 'resumed: due at once');
        await store.setNextDue('orders', T0 + 60 * MINUTE);
        await store.recordControl({ connection: 'orders', action: 'poll', by: 'API from 127.0.0.1', at: T0 + 2 * MINUTE });
        assert.equal((await store.getConnectionState('orders'))?.nextDueAt, T0 + 2 * MINUTE, 'poll now: due at once');
        await store.recordControl({ connection: 'other', action: 'pause', by: 'CLI (bob)', at: T0 + 3 * MINUTE });

        assert.deepEqual(
          (await store.recentControls('orders', 50)).map((c) => [c.action, c.by, c.at - T0, c.polledAt]),
          [
            ['poll', 'API from 127.0.0.1', 2 * MINUTE, null],
            ['resume', 'API from 127.0.0.1', MINUTE, null],
            ['pause', 'CLI (alice)', 0, null],
          ],
        );
        assert.equal(state?.pausedBy, null, 'the pause is over, and its record stays');
        assert.deepEqual(
          (await store.recentControls('orders', 1)).map((c) => c.action),
          ['poll'],
          'the limit keeps the newest',
        );
        assert.deepEqual(await store.recentControls('nobody', 50), []);
      } finally {
        await opened.dispose();
      }
    });

    it('marks the next poll after a poll now as asked for, not one that started before it', async () => {
      const opened = await backend.open();
      try {
        const { store } = opened;
        // A poll runs from T0 to T0+5s; poll now is asked at T0+1s, while it runs.
        await store.recordControl({ connection: 'shop', action: 'poll', by: 'CLI (alice)', at: T0 + 1_000 });
        await store.recordPoll(poll('shop', T0), T0 + 60 * MINUTE);
        assert.equal((await store.recentPolls('shop', 1))[0]?.askedBy, null, 'the running poll was not the one asked for');
        assert.equal((await store.getConnectionState('shop'))?.nextDueAt, T0 + 1_000, 'and the one asked for is still due at once');
        assert.equal((await store.recentControls('shop', 1))[0]?.polledAt, null);

        await store.recordPoll(poll('shop', T0 + 6_000, { emails: 1, messages: 2 }), T0 + 60 * MINUTE);
        await store.recordPoll(poll('shop', T0 + 60 * MINUTE), T0 + 120 * MINUTE);
        const polls = await store.recentPolls('shop', 50);
        assert.deepEqual(
          polls.map((p) => [p.startedAt - T0, p.askedBy]),
          [
            [60 * MINUTE, null],
            [6_000, 'CLI (alice)'],
            [0, null],
          ],
        );
        assert.equal((await store.getConnectionState('shop'))?.nextDueAt, T0 + 120 * MINUTE, 'then back on its interval');
        assert.equal((await store.recentControls('shop', 1))[0]?.polledAt, T0 + 6_000, 'the control names the poll it caused');
        await store.recordPoll(poll('other', T0 + 7_000), T0 + 60 * MINUTE);
        assert.equal((await store.recentPolls('other', 1))[0]?.askedBy, null, 'another connection’s poll is not marked');
      } finally {
        await opened.dispose();
      }
    });

    it('keeps the controls as long as the polls: a day', async () => {
      const opened = await backend.open();
      try {
        const { store } = opened;
        await store.recordControl({ connection: 'shop', action: 'pause', by: 'CLI (alice)', at: T0 });
        await store.recordControl({ connection: 'shop', action: 'resume', by: 'CLI (alice)', at: T0 + MINUTE });
        await store.recordControl({ connection: 'other', action: 'pause', by: 'CLI (bob)', at: T0 });
        await store.recordPoll(poll('shop', T0 + 2 * MINUTE), T0 + DAY);
        // A poll a day and a minute and a half later: the pause goes, the resume a minute later stays.
        await store.recordPoll(poll('shop', T0 + DAY + MINUTE / 2), T0 + 2 * DAY);
        assert.deepEqual(
          (await store.recentControls('shop', 50)).map((c) => c.action),
          ['resume'],
        );
        assert.equal((await store.recentPolls('shop', 50)).length, 2, 'both polls are within the day');
        // A control a day later prunes its connection's older controls too.
        await store.recordControl({ connection: 'shop', action: 'poll', by: 'API from 127.0.0.1', at: T0 + DAY + 2 * MINUTE });
        assert.deepEqual(
          (await store.recentControls('shop', 50)).map((c) => c.action),
          ['poll'],
        );
        assert.deepEqual(
          (await store.recentControls('other', 50)).map((c) => c.action),
          ['pause'],
          'another connection’s are its own',
        );
      } finally {
        await opened.dispose();
      }
    });
  });
}
