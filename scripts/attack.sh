#!/usr/bin/env bash
# The attack suite (issue 13, part 10): a coordinator on SQLite (release build) attacked through
# its documented API by `xunxing-loadgen attack`: forged results from two accounts that never
# search, a platform link without the platform's code, and a page flood from one address while an
# honest host asks for work. Prints per attack what got through against its goal; exits 1 when a
# goal is missed. Figures go to BENCHMARKS.md.
#
#   bash scripts/attack.sh
#   FLOOD_SECONDS=30 bash scripts/attack.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/coordinator.sh
bash scripts/install-deps.sh >/dev/null
swift build -c release --product xunxing-coordinator
swift build -c release --product xunxing-loadgen
swift build -c release --product xunxing
bin=$(swift build -c release --show-bin-path)

dir=$(mktemp -d /tmp/xunxing-attack-XXXXXX)
trap 'kill $(cat "$dir/pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$dir"' EXIT
"$bin/xunxing" simulate "$dir/sample.fil" --period 0.25 --dm 30 --snr 40 --duty-cycle 0.05 \
    --channels 64 --fch1 1510 --foff=-1.09 --tsamp 320e-6 --samples 187520 --nbits 2 --seed 1 >/dev/null
"$bin/xunxing-coordinator" serve --data-dir "$dir/coordinator" --port 0 --default-preset tiny --job-interval 0.5 \
    --log-level warning --trusted-proxy 127.0.0.1 >"$dir/coordinator.log" 2>&1 &
echo $! >"$dir/pid"
url=$(wait_for_url "$dir/coordinator.log")
token=$("$bin/xunxing-coordinator" token create --role astronomer --name "Attack suite" --data-dir "$dir/coordinator" | tail -1)
"$bin/xunxing-loadgen" attack --coordinator "$url" --astronomer-key "$token" --filterbank "$dir/sample.fil" --period 0.25 \
    --flood-seconds "${FLOOD_SECONDS:-10}" --flood-threads "${FLOOD_THREADS:-8}"
