#!/usr/bin/env bash
# The whole system on one machine: a coordinator on SQLite, the sample observation submitted,
# two volunteers' workers searching it until it completes, then the candidates, each volunteer's
# charity hours, and the address of the web pages (the coordinator keeps serving them until
# Ctrl-C; set DEMO_EXIT=1 to stop at once).
#
# The sample is ../shared/data/tutorial.fil when it is there, otherwise a simulated observation
# like it (a 250 ms pulsar at DM 30). `bash scripts/demo.sh search` runs only the local search.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/coordinator.sh
bash scripts/install-deps.sh

swift build
bin=$(swift build --show-bin-path)

sample=../shared/data/tutorial.fil
if [ ! -f "$sample" ]; then
    mkdir -p out
    sample=out/sample.fil
    [ -f "$sample" ] || "$bin/xunxing" simulate "$sample" --period 0.25 --dm 30 --snr 40 --duty-cycle 0.05 \
        --channels 64 --fch1 1510 --foff=-1.09 --tsamp 320e-6 --samples 187520 --nbits 2 --seed 1
fi

if [ "${1:-}" = "search" ]; then
    exec "$bin/xunxing" search "$sample"
fi

demo=out/demo
rm -rf "$demo"
mkdir -p "$demo"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

echo "== coordinator (SQLite in $demo/coordinator)"
"$bin/xunxing-coordinator" serve --data-dir "$demo/coordinator" --port 0 --default-preset tiny \
    --job-interval 0.5 --log-level warning > "$demo/coordinator.log" 2>&1 &
pids+=($!)
url=$(wait_for_url "$demo/coordinator.log")
echo "listening on $url"

token=$("$bin/xunxing-coordinator" token create --role astronomer --name "Demo astronomer" --data-dir "$demo/coordinator" | tail -1)
export XUNXING_COORDINATOR=$url XUNXING_TOKEN=$token

echo "== submitting $sample"
dataset=$("$bin/xunxing" submit "$sample" --preset tiny | tail -1)
echo "dataset $dataset"

echo "== two volunteers, one worker each"
keys=()
for who in Ada Grace; do
    key=$("$bin/xunxing" signup --email "$(echo "$who" | tr A-Z a-z)@example.org" --name "$who" | tail -1)
    keys+=("$key")
    "$bin/xunxing-worker" attach --state-dir "$demo/worker-$who" --coordinator "$url" --account-key "$key" --name "$who-laptop" >/dev/null
    "$bin/xunxing-worker" run --state-dir "$demo/worker-$who" --exit-when-idle --cores 1 --fft-rigor estimate \
        --log-level warning > "$demo/worker-$who.log" 2>&1 &
    pids+=($!)
done

until "$bin/xunxing" status "$dataset" --format json | grep -q '"state" : "complete"'; do
    "$bin/xunxing" status "$dataset"
    if "$bin/xunxing" status "$dataset" --format json | grep -q '"state" : "failed"'; then exit 1; fi
    sleep 2
done
"$bin/xunxing" status "$dataset"
# Datasets are private until their astronomer publishes them on the public pages.
"$bin/xunxing" publish "$dataset"

echo "== candidates"
"$bin/xunxing" candidates "$dataset" | head -12
echo "== charity hours"
for key in "${keys[@]}"; do "$bin/xunxing" profile --account-key "$key"; done

echo "== web pages: $url/  (datasets: $url/datasets/$dataset, leaderboard: $url/leaderboard)"
if [ -z "${DEMO_EXIT:-}" ]; then
    echo "Ctrl-C stops the coordinator."
    wait "${pids[0]}"
fi
