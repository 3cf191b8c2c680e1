import assert from 'node:assert/strict';
import { it } from 'node:test';
import { runSoak, soakReport } from '../support/soak.ts';

/** The long soak is `npm run soak` (1,000 rounds by default); the suite runs a few of its rounds. */
const ROUNDS = 3;

it('SIGKILLs workers on PostgreSQL and SQLite with IMAP, POP3 and Graph at once, restarts Dovecot, and ends with nothing lost, duplicated or left on the server', {
  timeout: 600_000,
}, async () => {
  const figures = await runSoak({ rounds: ROUNDS, restartEvery: 2, maxRunMs: 2_000 });
  const { text, clean } = soakReport(figures);
  assert.equal(figures.kills >= 2 * ROUNDS, true, text);
  assert.equal(figures.dovecotRestarts, 1, text);
  for (const count of figures.counts) assert.equal(count.sent, ROUNDS * 2, text);
  assert.ok(clean, text);
});
