#!/usr/bin/env bash
# `npm run bench`: installs Dovecot from Debian's packages when missing (like scripts/test.sh),
# then runs bench/run.ts, which starts its own private Dovecot on free loopback ports.
#   BENCH_QUICK=1    500 emails, one measured run (about 2 minutes instead of about 9)
#   BENCH_DRAIN_ONLY=1  the drain table only (Postroom, raw client, peers), no memory/latency runs
#   BENCH_STRACE=1   also one Postroom IMAP drain under strace -c -f: fsyncs and file-system calls per email
#   BENCH_THREADS=1  also the IMAP drain on 0, 1, 2 and 4 parse threads (as the cores allow); on in a full run, BENCH_THREADS=0 leaves it out
#   BENCH_PROFILE=1  also profile one IMAP drain with node --cpu-prof and summarise it (+2 minutes)
#   BENCH_EMAILS, BENCH_RUNS (IMAP, default 3), BENCH_POP3_RUNS (default 1) change the sizes
# Prints a table and writes bench-results/latest.json.
#   npm run bench -- graph   Microsoft Graph intake against the local Graph-shaped server instead
#                            (bench/graph.ts; no Dovecot): requests per email, throttled drains
#   npm run bench -- backlog  peak RSS draining 100,000 small emails over IMAP and 20,000 over POP3
#                            (bench/backlog.ts): memory must not grow with the mailbox
#   npm run bench -- trail   email trail searches over 1,000,000 emails on SQLite and PostgreSQL
#                            (bench/trail.ts; no Dovecot; PostgreSQL on 127.0.0.1:5432, database test)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = graph ]; then
  shift
  exec node --import tsx bench/graph.ts "$@"
fi

if [ "${1:-}" = trail ]; then
  shift
  exec node --import tsx bench/trail.ts "$@"
fi

if ! command -v dovecot >/dev/null 2>&1; then
  echo "bench: installing dovecot-imapd dovecot-pop3d from Debian's packages"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends dovecot-imapd dovecot-pop3d >/dev/null
fi

if [ "${1:-}" = backlog ]; then
  shift
  exec node --import tsx bench/backlog.ts "$@"
fi

# mbsync (Debian's isync) is a peer in the drain table; installed like Dovecot, skipped if that fails.
if ! command -v mbsync >/dev/null 2>&1; then
  echo "bench: installing isync (mbsync) from Debian's packages"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends isync >/dev/null || echo "bench: could not install isync: mbsync is left out"
fi

exec node --import tsx bench/run.ts "$@"
