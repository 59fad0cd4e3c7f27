#!/usr/bin/env bash
# Coordinator benchmark (issue 8): sustained completed work-unit cycles per second (request,
# acknowledge, report, validate, credit) and request latency, on the embedded SQLite database,
# with 1,000 simulated hosts from `xunxing-loadgen` on the same machine — first on an empty
# database, then with 1,000,000 validated work units already stored. Each run ends with an audit
# of the database: every unit validated, no accepted report lost, nothing credited twice.
#
#   bash scripts/bench-coordinator.sh                 # 40000 units, 1000 hosts, 1M stored
#   UNITS=10000 STORED=100000 bash scripts/bench-coordinator.sh
#   PER_REQUEST=8 bash scripts/bench-coordinator.sh  # hosts fetch 8 units per scheduler request
#
# Printed per run: the HTTP floor (GET /health at full speed, same connections), cycles/s,
# p50/p99 per request kind, and ratios (requests per cycle, vs the floor, vs BOINC's ~100/s).
set -euo pipefail
cd "$(dirname "$0")/.."
UNITS=${UNITS:-40000}
HOSTS=${HOSTS:-1000}
CONNECTIONS=${CONNECTIONS:-64}
STORED=${STORED:-1000000}
PORT=${PORT:-8391}
PER_REQUEST=${PER_REQUEST:-1}   # units a host asks for per request
bash scripts/install-deps.sh >/dev/null
swift build -c release --product xunxing-coordinator
swift build -c release --product xunxing-loadgen
BIN=$(swift build -c release --show-bin-path)

run() {
    local label=$1 stored=$2
    local dir
    dir=$(mktemp -d /tmp/xunxing-bench-XXXXXX)
    echo "== $label: $UNITS units, $HOSTS hosts, $stored units already stored =="
    "$BIN/xunxing-loadgen" seed --data-dir "$dir" --units "$UNITS" --stored "$stored" >/dev/null
    "$BIN/xunxing-coordinator" serve --data-dir "$dir" --port "$PORT" --default-preset tiny --log-level warning \
        >"$dir/coordinator.log" 2>&1 &
    local pid=$!
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/api/v1/health" >/dev/null && break; sleep 0.1; done
    "$BIN/xunxing-loadgen" run --coordinator "http://127.0.0.1:$PORT" --hosts "$HOSTS" --connections "$CONNECTIONS" \
        --units-per-request "$PER_REQUEST" --data-dir "$dir" --audit --report-file "$dir/report.json" || status=$?
    echo "coordinator peak RSS: $(grep VmHWM /proc/$pid/status | awk '{print $2/1024 " MiB"}')"
    kill -9 "$pid"; wait "$pid" 2>/dev/null || true
    rm -rf "$dir"
    return ${status:-0}
}

run "empty database" 0
run "a million units stored" "$STORED"
