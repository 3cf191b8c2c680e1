import assert from 'node:assert/strict';
import { it } from 'node:test';
import { backoffDelay } from '../../src/sources/imap/imap-idle.ts';

const timings = { backoffBaseMs: 1_000, backoffMaxMs: 60_000 };

it('waits between half and all of 1 s, 2 s, 4 s ... capped at a minute, never the same for every watcher', () => {
  const expectedCeilings = [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000];
  expectedCeilings.forEach((ceiling, index) => {
    const attempt = index + 1;
    assert.equal(
      backoffDelay(attempt, timings, () => 0),
      ceiling / 2,
      `attempt ${attempt}, least jitter`,
    );
    assert.equal(
      backoffDelay(attempt, timings, () => 0.999_999),
      ceiling,
      `attempt ${attempt}, most jitter`,
    );
  });
  const spread = new Set(Array.from({ length: 50 }, () => backoffDelay(5, timings)));
  assert.ok(spread.size > 10, 'real randomness spreads the reconnects of many watchers');
  for (const delay of spread) assert.ok(delay >= 8_000 && delay <= 16_000);
});
