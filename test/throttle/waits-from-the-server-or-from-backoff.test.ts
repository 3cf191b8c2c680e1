import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_SERVER_WAIT_MS, parseRetryAfter } from '../../src/net/server-wait.ts';
import { BACKOFF_BASE_MS, BACKOFF_CAP_MS, backoffCeiling, backoffDelay } from '../../src/throttle/backoff.ts';
import { type Classification, classify, type ThrottleSignal } from '../../src/throttle/classify.ts';
import { compileThrottlePatterns } from '../../src/throttle/patterns.ts';

const patterns = compileThrottlePatterns();
const NOW = Date.parse('2015-10-21T07:26:30Z');
const state = (consecutive = 0, random = () => 0.5) => ({ consecutive, now: NOW, random });
const graph429 = (headers: Record<string, string>): ThrottleSignal => ({
  kind: 'http',
  status: 429,
  headers,
  body: '{"error":{"code":"TooManyRequests","message":"Too many requests"}}',
});
const unavailable: ThrottleSignal = {
  kind: 'reply',
  protocol: 'imap',
  text: 'A1 NO [UNAVAILABLE] Maximum number of connections from user+IP exceeded (mail_max_userip_connections=3)',
};

function wait(result: Classification): { waitMs: number; waitSource: string } {
  assert.ok(result.throttled, result.reason);
  return { waitMs: result.waitMs, waitSource: result.waitSource };
}

describe('Retry-After', () => {
  it('reads whole seconds', () => {
    assert.deepEqual(wait(classify(graph429({ 'Retry-After': '120' }), { patterns }, state())), { waitMs: 120_000, waitSource: 'retry-after' });
  });

  it('reads fractional seconds, rounding up to whole milliseconds', () => {
    assert.deepEqual(wait(classify(graph429({ 'retry-after': '0.5' }), { patterns }, state())), { waitMs: 500, waitSource: 'retry-after' });
    assert.equal(parseRetryAfter('1.0001', NOW), 1_001);
  });

  it('reads an HTTP-date relative to now', () => {
    assert.deepEqual(wait(classify(graph429({ 'Retry-After': 'Wed, 21 Oct 2015 07:28:00 GMT' }), { patterns }, state())), {
      waitMs: 90_000,
      waitSource: 'retry-after',
    });
  });

  it('finds the header whatever its case', () => {
    assert.equal(wait(classify(graph429({ 'RETRY-AFTER': '3' }), { patterns }, state())).waitMs, 3_000);
  });

  it('treats a date already past as no wait, and bounds absurd values to a day', () => {
    assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:00:00 GMT', NOW), 0);
    assert.equal(parseRetryAfter('99999999', NOW), MAX_SERVER_WAIT_MS);
  });

  it('falls back to the latency period when the header is garbage', () => {
    assert.equal(parseRetryAfter('soon', NOW), undefined);
    assert.equal(parseRetryAfter('-5', NOW), undefined);
    assert.deepEqual(wait(classify(graph429({ 'Retry-After': 'soon' }), { patterns }, state())), { waitMs: 1_500, waitSource: 'backoff' });
  });

  it('wins over a configured fixed latency', () => {
    assert.deepEqual(wait(classify(graph429({ 'Retry-After': '7' }), { patterns, latencyMs: 60_000 }, state())), { waitMs: 7_000, waitSource: 'retry-after' });
  });
});

describe('Suggested Backoff Time', () => {
  it('waits the milliseconds the server names, even with a fixed latency configured', () => {
    const signal: ThrottleSignal = { kind: 'reply', protocol: 'imap', text: 'A5 NO Request is throttled. Suggested Backoff Time: 2000 milliseconds' };
    assert.deepEqual(wait(classify(signal, { patterns, latencyMs: 60_000 }, state(5))), { waitMs: 2_000, waitSource: 'server-text' });
  });

  it('is honoured when replacing the patterns removed the Exchange words', () => {
    const signal: ThrottleSignal = { kind: 'reply', protocol: 'imap', text: 'A5 BAD Request is throttled. Suggested Backoff Time: 92415 milliseconds' };
    assert.equal(wait(classify(signal, { patterns: compileThrottlePatterns({ global: 'nothing like it', globalMode: 'replace' }) }, state())).waitMs, 92_415);
  });
});

describe('exponential backoff', () => {
  it('doubles from 2 s per consecutive throttle and caps at 10 min', () => {
    const ceilings = Array.from({ length: 12 }, (_, attempt) => backoffCeiling(attempt));
    assert.deepEqual(ceilings, [2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 512_000, 600_000, 600_000, 600_000]);
    assert.equal(BACKOFF_BASE_MS, 2_000);
    assert.equal(BACKOFF_CAP_MS, 600_000);
    assert.equal(backoffCeiling(10_000), BACKOFF_CAP_MS);
  });

  it('keeps equal jitter within [ceiling / 2, ceiling]', () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      const ceiling = backoffCeiling(attempt);
      assert.equal(
        backoffDelay(attempt, () => 0),
        ceiling / 2,
      );
      assert.equal(
        backoffDelay(attempt, () => 0.999999),
        Math.round(ceiling / 2 + (ceiling / 2) * 0.999999),
      );
      for (let i = 0; i < 50; i++) {
        const delay = backoffDelay(attempt);
        assert.ok(delay >= ceiling / 2 && delay <= ceiling, `${delay} outside [${ceiling / 2}, ${ceiling}]`);
      }
    }
  });

  it('offers full jitter in [0, ceiling] and none', () => {
    assert.equal(
      backoffDelay(3, () => 0, { jitter: 'full' }),
      0,
    );
    assert.equal(
      backoffDelay(3, () => 0.5, { jitter: 'full' }),
      8_000,
    );
    assert.equal(
      backoffDelay(3, () => 0.5, { jitter: 'none' }),
      16_000,
    );
  });

  it('stays in bounds when the random source misbehaves', () => {
    assert.equal(
      backoffDelay(0, () => 7),
      2_000,
    );
    assert.equal(
      backoffDelay(0, () => Number.NaN),
      1_000,
    );
  });

  it('is what classify uses when the server names no wait', () => {
    assert.deepEqual(
      wait(
        classify(
          unavailable,
          { patterns },
          state(0, () => 0),
        ),
      ),
      { waitMs: 1_000, waitSource: 'backoff' },
    );
    assert.deepEqual(
      wait(
        classify(
          unavailable,
          { patterns },
          state(1, () => 0.999),
        ),
      ),
      { waitMs: 3_998, waitSource: 'backoff' },
    );
    const late = wait(classify(unavailable, { patterns }, state(20, Math.random)));
    assert.ok(late.waitMs >= 300_000 && late.waitMs <= 600_000);
  });
});

describe('fixed latency', () => {
  it('wins over backoff when set, however many throttles in a row', () => {
    for (const consecutive of [0, 3, 30]) {
      assert.deepEqual(wait(classify(unavailable, { patterns, latencyMs: 45_000 }, state(consecutive))), { waitMs: 45_000, waitSource: 'latency' });
    }
    const closed: ThrottleSignal = { kind: 'socket', event: 'closed-mid-command' };
    assert.deepEqual(wait(classify(closed, { patterns, latencyMs: 45_000 }, state())), { waitMs: 45_000, waitSource: 'latency' });
  });
});

describe('[THROTTLED] on an OK reply', () => {
  const slowDown: ThrottleSignal = { kind: 'reply', protocol: 'imap', text: 'A00000003 OK Success [THROTTLED]', ok: true };

  it('is slow-down-only: keep going, pause between commands', () => {
    const result = classify(slowDown, { patterns }, state());
    assert.ok(result.throttled);
    assert.equal(result.slowDownOnly, true);
    assert.equal(result.matched, 'ok-throttled');
    assert.equal(result.waitMs, 1_500);
  });

  it('never pauses a command longer than 30 s, even with a long latency or many throttles', () => {
    assert.equal(wait(classify(slowDown, { patterns, latencyMs: 300_000 }, state())).waitMs, 30_000);
    assert.equal(wait(classify(slowDown, { patterns }, state(20))).waitMs, 30_000);
  });

  it('is recognised when the caller does not flag the reply as OK', () => {
    const result = classify({ kind: 'reply', protocol: 'imap', text: 'A2 OK Success [THROTTLED]' }, { patterns }, state());
    assert.ok(result.throttled && result.slowDownOnly === true);
  });

  it('does not make a plain OK throttling', () => {
    assert.equal(classify({ kind: 'reply', protocol: 'imap', text: 'A2 OK Success', ok: true }, { patterns }, state()).throttled, false);
  });

  it('on a failed reply is a full throttle', () => {
    const result = classify({ kind: 'reply', protocol: 'imap', text: 'A2 NO Too busy [THROTTLED]' }, { patterns }, state());
    assert.ok(result.throttled);
    assert.equal(result.slowDownOnly, undefined);
  });
});
