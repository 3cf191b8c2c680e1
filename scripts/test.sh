#!/usr/bin/env bash
# The whole test suite: installs what it needs from Debian's packages when missing (Dovecot,
# Chromium), makes sure the local services are up, typechecks and lints, then runs every test file.
set -euo pipefail
cd "$(dirname "$0")/.."

need_packages=()
command -v dovecot >/dev/null 2>&1 || need_packages+=(dovecot-imapd dovecot-pop3d)
# GNU Mailutils imap4d: a second IMAP server for the interoperability tests; it installs beside Dovecot.
command -v imap4d >/dev/null 2>&1 || [ -x /usr/sbin/imap4d ] || need_packages+=(mailutils-imap4d)
[ -x /usr/bin/chromium ] || need_packages+=(chromium)
# promtool checks the README's alert rules (Debian's prometheus package; the test skips, saying why, without it).
command -v promtool >/dev/null 2>&1 || need_packages+=(prometheus)
if [ ${#need_packages[@]} -gt 0 ]; then
  echo "test: installing ${need_packages[*]} from Debian's packages"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_packages[@]}" >/dev/null
fi

# Local services the suite talks to (PostgreSQL, RabbitMQ, NATS, Redis); start any that is down (commands from the machine's docs).
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if ! port_open 5432 && command -v pg_ctlcluster >/dev/null; then pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true; fi
if ! port_open 5672 && command -v rabbitmq-server >/dev/null; then rabbitmq-server -detached || true; fi
if ! port_open 4222 && [ -x /usr/sbin/nats-server ]; then
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server || true
fi
if ! port_open 6379 && command -v redis-server >/dev/null; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no || true
fi
for port in 5432 5672 4222 6379; do
  for _ in $(seq 1 60); do port_open "$port" && break; sleep 1; done
done

echo "test: typecheck and lint"
npx tsc -p tsconfig.json --noEmit
# Biome (biome.json): the house format and its lint rules; `npx biome check --write .` fixes most findings.
npx biome ci --reporter=summary .

# The tests run the TypeScript sources; a few run the built CLI, so build it when src/ changed.
node scripts/build.mjs --if-stale

mapfile -t files < <(find test -name '*.test.ts' | sort)
if [ "$#" -gt 0 ]; then files=("$@"); fi
echo "test: ${#files[@]} test files"
exec node --import tsx --test --test-concurrency=2 --test-timeout=300000 "${files[@]}"
