#!/usr/bin/env bash
# `npm run bench`: installs Dovecot from Debian's packages when missing (like scripts/test.sh),
# then runs bench/run.ts, which starts its own private Dovecot on free loopback ports.
#   BENCH_QUICK=1    500 emails, one measured run (about 2 minutes instead of about 9)
#   BENCH_PROFILE=1  also profile one IMAP drain with node --cpu-prof and summarise it (+2 minutes)
#   BENCH_EMAILS, BENCH_RUNS (IMAP, default 3), BENCH_POP3_RUNS (default 1) change the sizes
# Prints a table and writes bench-results/latest.json.
#   npm run bench -- graph   Microsoft Graph intake against the local Graph-shaped server instead
#                            (bench/graph.ts; no Dovecot): requests per email, throttled drains
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = graph ]; then
  shift
  exec node --import tsx bench/graph.ts "$@"
fi

if ! command -v dovecot >/dev/null 2>&1; then
  echo "bench: installing dovecot-imapd dovecot-pop3d from Debian's packages"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends dovecot-imapd dovecot-pop3d >/dev/null
fi

exec node --import tsx bench/run.ts "$@"
