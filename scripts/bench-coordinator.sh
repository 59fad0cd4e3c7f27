#!/usr/bin/env bash
# Coordinator benchmark (issues 8 and 15): sustained completed work-unit cycles per second
# (request, acknowledge, report, validate, credit) and request latency, on the embedded SQLite
# database, with 1,000 simulated hosts from `xunxing-loadgen` on the same machine, at each number
# of validated units already stored (0, 100,000 and 1,000,000 by default). Each run ends with an
# audit of the database: every unit validated, no accepted report lost, nothing credited twice.
# With BASE=<git revision>, that revision is built (release, in a temporary worktree) and runs
# the same loads first, so the two are compared in one sitting on one machine.
#
#   bash scripts/bench-coordinator.sh                          # 40000 units per run, 0 / 100k / 1M stored
#   UNITS=20000 STORED="0 100000" bash scripts/bench-coordinator.sh
#   BASE=HEAD~3 UNITS=20000 bash scripts/bench-coordinator.sh  # against an earlier commit, same run
#   BASE_BIN=/path/.build/release bash scripts/bench-coordinator.sh   # a baseline built already
#   PER_REQUEST=8 bash scripts/bench-coordinator.sh            # hosts fetch 8 units per scheduler request
#
# Printed per run: the HTTP floor (GET /health at full speed, same connections), cycles/s,
# p50/p99 per request kind, and ratios (requests per cycle, vs the floor, vs BOINC's ~100/s);
# at the end a table of every run.
set -euo pipefail
cd "$(dirname "$0")/.."
UNITS=${UNITS:-40000}
HOSTS=${HOSTS:-1000}
CONNECTIONS=${CONNECTIONS:-64}
STORED=${STORED:-"0 100000 1000000"}
PORT=${PORT:-8391}
PER_REQUEST=${PER_REQUEST:-1}   # units a host asks for per request
BASE=${BASE:-}
bash scripts/install-deps.sh >/dev/null
swift build -c release --product xunxing-coordinator
swift build -c release --product xunxing-loadgen
BIN=$(swift build -c release --show-bin-path)
SUMMARY=$(mktemp /tmp/xunxing-bench-summary-XXXXXX)

BASE_BIN=${BASE_BIN:-}   # or a directory holding a baseline's release binaries, built already
if [ -n "$BASE" ] && [ -z "$BASE_BIN" ]; then
    worktree=$(mktemp -d /tmp/xunxing-bench-base-XXXXXX)
    git worktree add -q --detach "$worktree" "$BASE"
    trap 'git worktree remove --force "$worktree" >/dev/null 2>&1 || true' EXIT
    (cd "$worktree" && swift build -c release --product xunxing-coordinator >/dev/null && swift build -c release --product xunxing-loadgen >/dev/null)
    BASE_BIN=$(cd "$worktree" && swift build -c release --show-bin-path)
fi

run() {
    local label=$1 bin=$2 stored=$3
    local dir status=0
    dir=$(mktemp -d /tmp/xunxing-bench-XXXXXX)
    echo "== $label: $UNITS units, $HOSTS hosts, $stored units already stored =="
    "$bin/xunxing-loadgen" seed --data-dir "$dir" --units "$UNITS" --stored "$stored" >/dev/null
    "$bin/xunxing-coordinator" serve --data-dir "$dir" --port "$PORT" --default-preset tiny --log-level warning \
        >"$dir/coordinator.log" 2>&1 &
    local pid=$!
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/api/v1/health" >/dev/null && break; sleep 0.1; done
    "$bin/xunxing-loadgen" run --coordinator "http://127.0.0.1:$PORT" --hosts "$HOSTS" --connections "$CONNECTIONS" \
        --units-per-request "$PER_REQUEST" --data-dir "$dir" --audit --report-file "$dir/report.json" | tee "$dir/out.txt" || status=$?
    echo "coordinator peak RSS: $(grep VmHWM /proc/$pid/status | awk '{print $2/1024 " MiB"}')"
    kill -9 "$pid"; wait "$pid" 2>/dev/null || true
    local cycles p50 p99 audit
    cycles=$(awk '/work-unit cycles/ {print $5}' "$dir/out.txt")
    p50=$(awk '$1 == "all" {print $5}' "$dir/out.txt")
    p99=$(awk '$1 == "all" {print $8}' "$dir/out.txt")
    audit=$(grep -q "nothing lost, nothing credited twice" "$dir/out.txt" && echo clean || echo FAILED)
    printf "%-10s %10s stored  %6s cycles/s  p50 %7s ms  p99 %7s ms  audit %s\n" "$label" "$stored" "$cycles" "$p50" "$p99" "$audit" >>"$SUMMARY"
    rm -rf "$dir"
    return $status
}

failed=0
for stored in $STORED; do
    if [ -n "$BASE_BIN" ]; then run "base" "$BASE_BIN" "$stored" || failed=1; fi
    run "this" "$BIN" "$stored" || failed=1
done
echo
echo "== summary (BOINC's published server figure: ~100 cycles/s per server) =="
cat "$SUMMARY"
rm -f "$SUMMARY"
exit $failed
