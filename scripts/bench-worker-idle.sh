#!/usr/bin/env bash
# Idle cost of the worker daemon (release build): a coordinator with no work on loopback, one
# worker attached to it, `xunxing-worker run` left alone. After a settling period (the first run
# measures the machine's speed once), it samples the daemon's utime+stime from /proc/PID/stat over
# the window and reports CPU as % of one core, resident memory (VmRSS now, VmHWM peak since start),
# threads, and how often it asked the coordinator for work (POST /work/request in the coordinator's
# request log) and made any request at all.
#
#   scripts/bench-worker-idle.sh [WINDOW_SECONDS=60] [SETTLE_SECONDS=10]
#   (SKIP_BUILD=1 uses the release binaries already built.)
set -euo pipefail
cd "$(dirname "$0")/.."
window=${1:-60}
settle=${2:-10}

if [ -z "${SKIP_BUILD:-}" ]; then
    bash scripts/install-deps.sh
    swift build -c release >/dev/null
fi
bin=$(swift build -c release --show-bin-path)

work=$(mktemp -d)
coordinator_pid=""
worker_pid=""
cleanup() {
    [ -n "$worker_pid" ] && kill "$worker_pid" 2>/dev/null && wait "$worker_pid" 2>/dev/null || true
    [ -n "$coordinator_pid" ] && kill "$coordinator_pid" 2>/dev/null && wait "$coordinator_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

"$bin/xunxing-coordinator" serve --data-dir "$work/coordinator" --port 0 --log-level debug \
    >"$work/coordinator.out" 2>"$work/coordinator.log" &
coordinator_pid=$!
for _ in $(seq 100); do
    grep -q "listening on" "$work/coordinator.out" 2>/dev/null && break
    sleep 0.1
done
url=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$work/coordinator.out" | head -1)
[ -n "$url" ] || { echo "the coordinator did not start:" >&2; cat "$work/coordinator.log" >&2; exit 1; }

key=$("$bin/xunxing" signup --coordinator "$url" --email idle@example.org --name "Idle bench" | tail -1)
"$bin/xunxing-worker" attach --coordinator "$url" --account-key "$key" --state-dir "$work/worker" >/dev/null

"$bin/xunxing-worker" run --state-dir "$work/worker" >"$work/worker.log" 2>&1 &
worker_pid=$!
sleep "$settle"
kill -0 "$worker_pid" || { echo "the worker exited:" >&2; cat "$work/worker.log" >&2; exit 1; }

ticks() { awk '{ print $14 + $15 }' "/proc/$worker_pid/stat"; }   # utime + stime, clock ticks
requests() { grep -c "$1" "$work/coordinator.log" || true; }
hz=$(getconf CLK_TCK)
cpu0=$(ticks); polls0=$(requests 'request.path=/api/v1/work/request'); all0=$(requests '\[Hummingbird\] Request')
t0=$(date +%s.%N)
sleep "$window"
cpu1=$(ticks); polls1=$(requests 'request.path=/api/v1/work/request'); all1=$(requests '\[Hummingbird\] Request')
t1=$(date +%s.%N)
status=/proc/$worker_pid/status

elapsed=$(echo "$t1 - $t0" | bc -l)
cpu_s=$(echo "($cpu1 - $cpu0) / $hz" | bc -l)
rss=$(awk '/^VmRSS/ { print $2 }' "$status")
hwm=$(awk '/^VmHWM/ { print $2 }' "$status")
threads=$(awk '/^Threads/ { print $2 }' "$status")
anon=$(awk '/^RssAnon/ { print $2 }' "$status")
filerss=$(awk '/^RssFile/ { print $2 }' "$status")
polls=$((polls1 - polls0)); all=$((all1 - all0))

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(free -g | awk '/^Mem/ { print $2 }') GiB"
printf 'idle window %.1f s after %d s settling (coordinator with no work on %s)\n' "$elapsed" "$settle" "$url"
printf 'CPU: %.2f s of utime+stime = %.2f%% of one core (clock tick %d/s)\n' "$cpu_s" "$(echo "100 * $cpu_s / $elapsed" | bc -l)" "$hz"
printf 'memory: VmRSS %.1f MiB (anonymous %.1f, file-backed %.1f), VmHWM %.1f MiB (peak since start), %d threads\n' \
    "$(echo "$rss / 1024" | bc -l)" "$(echo "$anon / 1024" | bc -l)" "$(echo "$filerss / 1024" | bc -l)" "$(echo "$hwm / 1024" | bc -l)" "$threads"
printf 'requests for work: %d in the window = one every %.1f s; all requests to the coordinator: %d\n' \
    "$polls" "$(echo "$elapsed / ($polls + 0.000001)" | bc -l)" "$all"
