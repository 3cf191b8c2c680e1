/**
 * `npm run soak [-- rounds]`: the long soak (test/support/soak.ts) — worker processes SIGKILLed
 * at random round after round on PostgreSQL and on SQLite, IMAP, POP3 and Graph connections at
 * once, new mail arriving, Dovecot restarted every tenth round; prints lost / duplicated / left
 * on the server (all must be 0) and exits 1 when any is not.
 *   SOAK_ROUNDS (or the first argument)  rounds, default 1000
 *   SOAK_EMAILS                          new emails per mailbox per round, default 2
 * The workers run the compiled CLI (as `npm start` does): a worker starts in a fraction of the
 * time tsx takes, so more rounds fit in an hour.
 */

import { runSoak, soakReport } from '../test/support/soak.ts';
import { BUILT_ENTRY, buildCli } from './build-cli.ts';

const DEFAULT_ROUNDS = 1000;

const rounds = Number(process.argv[2] ?? process.env.SOAK_ROUNDS ?? DEFAULT_ROUNDS);
if (!Number.isInteger(rounds) || rounds < 1) {
  console.error(`soak: rounds must be a whole number of at least 1, not "${process.argv[2] ?? process.env.SOAK_ROUNDS}"`);
  process.exit(2);
}
const say = (line: string): void => console.log(`${new Date().toISOString()} ${line}`);
const built = await buildCli(say);
const figures = await runSoak({
  rounds,
  emailsPerRound: Number(process.env.SOAK_EMAILS ?? 2),
  say,
  ...(built ? { command: [BUILT_ENTRY] } : {}),
});
const { text, clean } = soakReport(figures);
console.log(text);
process.exit(clean ? 0 : 1);
