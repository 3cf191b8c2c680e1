import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MailboxLimits, PENALTY_GRACE_MS } from './fake-graph-limits.ts';

// The Graph tests assert that Postroom never breaks a Retry-After; these prove the fake would catch it.
describe('the fake Graph flags a request that breaks a Retry-After', () => {
  const throttled = (): { limits: MailboxLimits; told: number } => {
    const limits = new MailboxLimits();
    limits.throttling = { every: 1, retryAfter: 2 };
    assert.equal(limits.judge(1_000).ok, false);
    limits.startPenalty(1_000, 2);
    limits.penaltyTold(1_010);
    return { limits, told: 1_010 };
  };

  it('not a request sent together with the throttled one, which arrives within the grace', () => {
    const { limits, told } = throttled();
    assert.equal(limits.violates(told + PENALTY_GRACE_MS - 1), false);
  });

  it('a request sent once the client could have read the Retry-After', () => {
    const { limits, told } = throttled();
    assert.equal(limits.violates(told + PENALTY_GRACE_MS), true);
    assert.equal(limits.violates(told + 1_999), true);
  });

  it('not once the Retry-After has passed', () => {
    const { limits, told } = throttled();
    assert.equal(limits.violates(told + 2_000), false);
  });
});
