#!/usr/bin/env bash
# Fault runs (issue 7), full size: a coordinator on SQLite killed with SIGKILL every few seconds
# while a fleet of simulated hosts works through many small units; then the same through a proxy
# that resets and stalls connections. Each run ends with an audit of the database: every unit
# validated, every accepted report stored, every valid result credited exactly once.
#
#   bash scripts/chaos.sh            # 5000 units, 200 hosts, a kill every 3 s; then the proxy run
#   UNITS=20000 KILL_EVERY=2 bash scripts/chaos.sh
#
# The scaled-down versions (1000 units) run in the test suite (FaultTests).
set -euo pipefail
cd "$(dirname "$0")/.."
UNITS=${UNITS:-5000}
HOSTS=${HOSTS:-200}
KILL_EVERY=${KILL_EVERY:-3}
PORT=${PORT:-8392}
PROXY_PORT=${PROXY_PORT:-8393}
bash scripts/install-deps.sh >/dev/null
swift build -c release --product xunxing-coordinator
swift build -c release --product xunxing-loadgen
BIN=$(swift build -c release --show-bin-path)

start_coordinator() {
    "$BIN/xunxing-coordinator" serve --data-dir "$1" --port "$PORT" --default-preset tiny --log-level warning \
        --acknowledge-timeout 5 --job-interval 0.5 >>"$1/coordinator.log" 2>&1 &
    echo $! >"$1/pid"
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/api/v1/health" >/dev/null && return; sleep 0.1; done
}

echo "== kill -9 every ${KILL_EVERY} s: $UNITS units, $HOSTS hosts =="
dir=$(mktemp -d /tmp/xunxing-chaos-XXXXXX)
"$BIN/xunxing-loadgen" seed --data-dir "$dir" --units "$UNITS" >/dev/null
start_coordinator "$dir"
"$BIN/xunxing-loadgen" run --coordinator "http://127.0.0.1:$PORT" --hosts "$HOSTS" --connections 16 \
    --floor-seconds 0 --data-dir "$dir" --audit >"$dir/run.log" 2>&1 &
fleet=$!
kills=0
while kill -0 "$fleet" 2>/dev/null; do
    sleep "$KILL_EVERY"
    kill -0 "$fleet" 2>/dev/null || break
    kill -9 "$(cat "$dir/pid")" 2>/dev/null || true
    kills=$((kills + 1))
    start_coordinator "$dir"
done
status=0; wait "$fleet" || status=$?
cat "$dir/run.log"
echo "coordinator killed $kills times"
kill -9 "$(cat "$dir/pid")" 2>/dev/null || true
rm -rf "$dir"
[ "$status" = 0 ] || exit "$status"

echo "== through a proxy that resets 3% and stalls 1% of chunks: $UNITS units, $HOSTS hosts =="
dir=$(mktemp -d /tmp/xunxing-chaos-XXXXXX)
"$BIN/xunxing-loadgen" seed --data-dir "$dir" --units "$UNITS" >/dev/null
start_coordinator "$dir"
"$BIN/xunxing-loadgen" proxy --listen "$PROXY_PORT" --target "$PORT" --cut-rate 0.03 --stall-rate 0.01 --stall-seconds 1 \
    >"$dir/proxy.log" 2>&1 &
proxy=$!
sleep 0.5
status=0
"$BIN/xunxing-loadgen" run --coordinator "http://127.0.0.1:$PROXY_PORT" --register-via "http://127.0.0.1:$PORT" --hosts "$HOSTS" --connections 16 \
    --floor-seconds 0 --data-dir "$dir" --audit || status=$?
kill "$proxy"; tail -1 "$dir/proxy.log"
kill -9 "$(cat "$dir/pid")" 2>/dev/null || true
rm -rf "$dir"
exit "$status"
