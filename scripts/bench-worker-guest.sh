#!/usr/bin/env bash
# The worker as a guest, measured with the release binaries against a coordinator on loopback
# (SQLite, the tutorial observation with the `standard` preset, whose units take seconds):
#
#   1. first unit on a fresh host: the daemon's CPU seconds (utime+stime of the process, planning
#      included) until its first result, against the CPU seconds the unit's search itself took;
#   2. CPU share of one search under cpu_limit_percent 25, 50 and 100 (process CPU over wall time,
#      on units of the `quick` preset from a simulated 2^21-sample observation: a minute each);
#   3. peak memory (VmHWM) of the daemon against WorkUnitMemory's model for the units it held;
#   4. time from SIGTERM to exit while searching, while paused (on battery, a fake /sys) and while
#      a spare core measures an FFTW plan (a fresh host, between its first and second unit).
#
#   bash scripts/bench-worker-guest.sh        (SKIP_BUILD=1 uses the release binaries already built)
#
# Not part of the test suite: it takes about 3 minutes after the build.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/coordinator.sh

if [ -z "${SKIP_BUILD:-}" ]; then
    swift build -c release --product xunxing-coordinator >/dev/null
    swift build -c release --product xunxing-worker >/dev/null
    swift build -c release --product xunxing >/dev/null
fi
bin=$(swift build -c release --show-bin-path)
sample=../shared/data/tutorial.fil
[ -f "$sample" ] || { echo "bench-worker-guest: $sample is missing" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
hz=$(getconf CLK_TCK)

"$bin/xunxing-coordinator" serve --data-dir "$work/coordinator" --port 0 --default-preset standard \
    --job-interval 0.5 --log-level warning > "$work/coordinator.log" 2>&1 &
pids+=($!)
url=$(wait_for_url "$work/coordinator.log")
token=$("$bin/xunxing-coordinator" token create --role astronomer --name bench --data-dir "$work/coordinator" | tail -1)
export XUNXING_COORDINATOR=$url XUNXING_TOKEN=$token
submit() { "$bin/xunxing" submit "${1:-$sample}" --preset "${2:-standard}" | tail -1; }
long="$work/long.fil"
"$bin/xunxing" simulate --samples $((1 << 21)) --period 0.0123 --dm 50 "$long" >/dev/null

# machine NAME: a fresh state directory attached under a new account; prints its path.
machine() {
    local key
    key=$("$bin/xunxing" signup --email "$1@example.org" --name "$1" | tail -1)
    "$bin/xunxing-worker" attach --state-dir "$work/$1" --coordinator "$url" --account-key "$key" --name "$1" >/dev/null
    echo "$work/$1"
}
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
now() { date +%s.%N; }
# status_has DIR JQ: true when `status --format json` of DIR satisfies the jq filter.
status_has() { "$bin/xunxing-worker" status --state-dir "$1" --format json 2>/dev/null | jq -e "$2" >/dev/null 2>&1; }
# wait_for DIR JQ SECONDS
wait_for() {
    local end=$(( $(date +%s) + $3 ))
    until status_has "$1" "$2"; do
        [ "$(date +%s)" -lt "$end" ] || { echo "bench-worker-guest: timed out waiting for $2 in $1" >&2; tail -20 "$1.log" >&2; exit 1; }
        sleep 0.1
    done
}
# stop_time PID: seconds from SIGTERM to exit.
stop_time() {
    local t0
    t0=$(now)
    kill -TERM "$1"
    # Gone, or a zombie (exited; its parent, a finished subshell, has not reaped it).
    while [ -e "/proc/$1/stat" ] && [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" != Z ]; do sleep 0.01; done
    echo "$(now) - $t0" | bc -l
}
run() { local dir=$1; shift; "$bin/xunxing-worker" run --state-dir "$dir" --speed 1 --loop-interval 0.1 "$@" > "$dir.log" 2>&1 & echo $!; }

# fresh_dataset: the observation submitted again, so that the next machine has units of its own.
fresh_dataset() {
    local dataset
    dataset=$(submit "$@")
    until "$bin/xunxing" status "$dataset" --format json | grep -q '"state" : "searching"'; do sleep 0.5; done
}
fresh_dataset

echo "== 1. first unit on a fresh host (fft_rigor measure: quick plans first)"
fresh=$(machine fresh)
pid=$(run "$fresh" --cores 1 --fft-rigor measure --buffer-seconds 0)
pids+=("$pid")
until grep -q "finished replica" "$fresh.log"; do sleep 0.05; done
daemon_cpu=$(echo "$(ticks "$pid") / $hz" | bc -l)
unit_cpu=$(sed -n 's/.*finished replica .*, \([0-9.]*\) CPU s.*/\1/p' "$fresh.log" | head -1)
printf 'first unit: daemon %.2f CPU s until its first result, of which the search %.2f CPU s (%.0f%% overhead: attach-time benchmark excluded, quick FFTW plans)\n' \
    "$daemon_cpu" "$unit_cpu" "$(echo "($daemon_cpu - $unit_cpu) / $unit_cpu * 100" | bc -l)"

echo "== 4a. SIGTERM while a spare core measures an FFTW plan"
if status_has "$fresh" '.now | any(startswith("measuring the FFTW plan"))' || \
   { wait_for "$fresh" '.now | any(startswith("measuring the FFTW plan"))' 30 2>/dev/null; }; then
    printf 'SIGTERM while measuring a plan: exited after %.2f s\n' "$(stop_time "$pid")"
else
    printf 'SIGTERM while measuring a plan: not caught (the plan was measured first); exited after %.2f s\n' "$(stop_time "$pid")"
fi

echo "== 2. CPU share of one search under cpu_limit_percent"
for limit in 25 50 100; do
    fresh_dataset "$long" quick
    dir=$(machine "limit$limit")
    pid=$(run "$dir" --cores 1 --fft-rigor estimate --buffer-seconds 0 --cpu-limit-percent "$limit")
    pids+=("$pid")
    wait_for "$dir" '.tasks | any(.state == "running" and .trials_done > 0)' 120
    c0=$(ticks "$pid"); t0=$(now)
    sleep 15
    c1=$(ticks "$pid"); t1=$(now)
    share=$(echo "($c1 - $c0) / $hz / ($t1 - $t0) * 100" | bc -l)
    printf 'cpu_limit_percent %3d: the daemon used %.1f%% of a core over %.0f s\n' "$limit" "$share" "$(echo "$t1 - $t0" | bc -l)"
    if [ "$limit" = 100 ]; then
        hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")
        model=$(jq -r '[.tasks[] | select(.state == "running")] | length' < <("$bin/xunxing-worker" status --state-dir "$dir" --format json))
        echo "== 3. memory: daemon peak $((hwm / 1024)) MB searching $model quick-preset unit(s) of 2^21 samples; xunxing bench units compares each unit with the model"
        echo "== 4b. SIGTERM while searching"
        printf 'SIGTERM while searching: exited after %.2f s\n' "$(stop_time "$pid")"
    else
        kill -TERM "$pid"
    fi
done

echo "== 4c. SIGTERM while paused (on battery)"
fresh_dataset
sys="$work/sys"
mkdir -p "$sys/class/power_supply/AC" "$sys/class/power_supply/BAT0"
echo Mains > "$sys/class/power_supply/AC/type"; echo 0 > "$sys/class/power_supply/AC/online"
echo Battery > "$sys/class/power_supply/BAT0/type"; echo Discharging > "$sys/class/power_supply/BAT0/status"
dir=$(machine paused)
"$bin/xunxing-worker" config set --state-dir "$dir" sys_root "$sys" >/dev/null
pid=$(run "$dir" --cores 1 --fft-rigor estimate --buffer-seconds 0)
pids+=("$pid")
wait_for "$dir" '.paused_reason == "on battery" and (.tasks | length > 0)' 60
printf 'SIGTERM while paused: exited after %.2f s\n' "$(stop_time "$pid")"
