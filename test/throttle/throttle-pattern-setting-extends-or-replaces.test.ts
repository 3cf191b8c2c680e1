import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPostroomError } from '../../src/model/errors.ts';
import { classify, type ThrottleSignal } from '../../src/throttle/classify.ts';
import { compileThrottlePatterns, DEFAULT_THROTTLE_PATTERNS, matchThrottlePattern, splitAlternatives } from '../../src/throttle/patterns.ts';

const state = { consecutive: 0, now: 0, random: () => 0.5 };
const reply = (text: string): ThrottleSignal => ({ kind: 'reply', protocol: 'imap', text });
const isThrottled = (text: string, patterns: RegExp[]): boolean => classify(reply(text), { patterns }, state).throttled;

const EXCHANGE = '10EA NO Server Unavailable. 15';
const CUSTOM = 'A4 NO Mailbox busy, come back in a while';

function assertConfigError(settings: Parameters<typeof compileThrottlePatterns>[0], ...fragments: RegExp[]): void {
  assert.throws(
    () => compileThrottlePatterns(settings),
    (error: unknown) => {
      assert.ok(isPostroomError(error, 'CONFIG_INVALID'), String(error));
      for (const fragment of fragments) assert.match(error.message, fragment);
      return true;
    },
  );
}

describe('the throttlePattern setting', () => {
  it('defaults to the built-in patterns', () => {
    assert.deepEqual(compileThrottlePatterns(), [...DEFAULT_THROTTLE_PATTERNS]);
    assert.equal(isThrottled(EXCHANGE, compileThrottlePatterns()), true);
    assert.equal(isThrottled(CUSTOM, compileThrottlePatterns()), false);
  });

  it('extends the defaults: the custom line and the default lines both count', () => {
    const patterns = compileThrottlePatterns({ global: 'Mailbox busy|come back later', globalMode: 'extend' });
    assert.equal(isThrottled(CUSTOM, patterns), true);
    assert.equal(isThrottled(EXCHANGE, patterns), true);
    assert.equal(patterns.length, DEFAULT_THROTTLE_PATTERNS.length + 2);
  });

  it('replaces the defaults: only the custom line counts among text patterns', () => {
    const patterns = compileThrottlePatterns({ global: 'Mailbox busy', globalMode: 'replace' });
    assert.equal(isThrottled(CUSTOM, patterns), true);
    assert.equal(isThrottled(EXCHANGE, patterns), false);
  });

  it('keeps the standard rules when replacing: response codes and dropped connections still count', () => {
    const patterns = compileThrottlePatterns({ global: 'Mailbox busy', globalMode: 'replace' });
    assert.equal(isThrottled('A1 NO [UNAVAILABLE] Maximum number of connections from user+IP exceeded', patterns), true);
    assert.equal(classify({ kind: 'socket', event: 'bye' }, { patterns }, state).throttled, true);
    assert.equal(classify({ kind: 'http', status: 429, headers: {} }, { patterns }, state).throttled, true);
  });

  it("applies a connection's setting on top of the global one", () => {
    const both = compileThrottlePatterns({
      global: 'Mailbox busy',
      globalMode: 'replace',
      connection: 'User is authenticated but not connected',
      connectionMode: 'extend',
    });
    assert.equal(isThrottled(CUSTOM, both), true);
    assert.equal(isThrottled('A3 BAD User is authenticated but not connected.', both), true);
    assert.equal(isThrottled(EXCHANGE, both), false);

    const own = compileThrottlePatterns({ global: 'Mailbox busy', connection: 'User is authenticated but not connected', connectionMode: 'replace' });
    assert.equal(isThrottled(CUSTOM, own), false);
    assert.equal(isThrottled(EXCHANGE, own), false);
    assert.equal(isThrottled('A3 BAD User is authenticated but not connected.', own), true);
  });

  it('matches case-insensitively and names the alternative that matched', () => {
    const patterns = compileThrottlePatterns({ global: 'mailbox BUSY|Slow down, please', globalMode: 'replace' });
    assert.equal(matchThrottlePattern('NO Slow Down, Please', patterns), 'Slow down, please');
    const result = classify(reply(CUSTOM), { patterns }, state);
    assert.ok(result.throttled);
    assert.equal(result.matched, 'mailbox BUSY');
  });

  it('splits on | only at the top level', () => {
    assert.deepEqual(splitAlternatives('a|(b|c)|[|]|d\\|e'), ['a', '(b|c)', '[|]', 'd\\|e']);
    const patterns = compileThrottlePatterns({ global: 'too (busy|slow)|x\\|y', globalMode: 'replace' });
    assert.equal(matchThrottlePattern('NO too slow', patterns), 'too (busy|slow)');
    assert.equal(matchThrottlePattern('NO x|y', patterns), 'x\\|y');
  });

  it('accepts a Java-style (?i) prefix, as written for Pega', () => {
    const patterns = compileThrottlePatterns({ global: '(?i).*getting throttled.*', globalMode: 'replace' });
    assert.equal(isThrottled('Email Account Sales is Getting Throttled by the mail provider', patterns), true);
  });

  it('treats an empty setting as no patterns of its own', () => {
    assert.equal(compileThrottlePatterns({ global: '  ' }).length, DEFAULT_THROTTLE_PATTERNS.length);
    assert.deepEqual(compileThrottlePatterns({ global: '', globalMode: 'replace' }), []);
  });

  it('rejects an invalid regex with a clear error naming the setting', () => {
    assertConfigError({ global: 'Too many (connections' }, /throttle\.pattern/, /Too many \(connections/, /Unterminated group/);
    assertConfigError({ connection: 'rate[limit', connectionName: 'office' }, /throttlePattern of connection "office"/, /Unterminated character class/);
  });

  it('rejects an alternative that would match every line', () => {
    assertConfigError({ global: 'busy||slow' }, /matches an empty line/);
    assertConfigError({ global: 'busy|.*' }, /matches an empty line/);
  });
});
