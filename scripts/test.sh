#!/usr/bin/env bash
# Builds everything and runs the whole test suite: SQLite and a throwaway PostgreSQL 15 cluster
# (started here on a loopback port, stopped at the end), real HTTP over loopback, headless
# Chromium for the web pages.
# Arguments go to `swift test`, e.g. `bash scripts/test.sh --filter StoreReadTests`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
need=()
command -v chromium >/dev/null || need+=(chromium)
command -v systemd-analyze >/dev/null || need+=(systemd)
[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql-15)
if ((${#need[@]})); then
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

# A throwaway PostgreSQL cluster for the tests that run on both databases.
PGBIN=/usr/lib/postgresql/15/bin
PGDIR=$(mktemp -d)
PGPORT=$((20000 + RANDOM % 20000))
$sudo chown postgres:postgres "$PGDIR"
pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }
pg "$PGBIN/initdb" -D "$PGDIR/data" -U postgres -A trust -E UTF8 --no-sync >/dev/null
pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w start \
    -o "-p $PGPORT -c listen_addresses=127.0.0.1 -k $PGDIR -c fsync=off -c max_connections=200" >/dev/null
stop_postgres() { pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate -w stop >/dev/null 2>&1 || true; $sudo rm -rf "$PGDIR"; }
trap stop_postgres EXIT
export XUNXING_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$PGPORT/postgres"

# Swift without debug information (-gnone): 10 % less CPU for the cold build, which is most of
# this script's time. Failures still name their file and line (the test macros record them); crash
# backtraces keep symbol names. (-Xcc -g0 reaches only Swift's C importer: SwiftPM puts its own -g
# after it for C targets, which built no faster without it.)
swift build --build-tests -Xswiftc -gnone -Xcc -g0
if (($#)); then
    swift test --skip-build "$@"
else
    # Two runs: the numerical suites keep the cores busy with synchronous work, which starves the
    # Swift concurrency pool that the in-process HTTP servers of the other suites answer on (their
    # requests then time out); apart, neither waits on the other.
    swift test --skip-build --filter 'PulsarSearchTests|WorkUnitsTests'
    swift test --skip-build --skip 'PulsarSearchTests|WorkUnitsTests'
fi
