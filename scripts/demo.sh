#!/usr/bin/env bash
# The main job on one machine: build, then search the sample observation for pulsars.
# Uses ../shared/data/tutorial.fil when it is there, otherwise simulates a sample observation.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh

swift build -c release --product xunxing
bin=.build/release/xunxing

sample=../shared/data/tutorial.fil
if [ ! -f "$sample" ]; then
    mkdir -p out
    sample=out/sample.fil
    [ -f "$sample" ] || "$bin" simulate "$sample" --period 0.25 --dm 30 --snr 40 --duty-cycle 0.05 \
        --channels 64 --fch1 1510 --foff=-1.09 --tsamp 320e-6 --samples 187520 --nbits 2 --seed 1
fi
echo "searching $sample"
"$bin" search "$sample" "$@"
