#!/usr/bin/env bash
# Release-build check of the cost model (Sources/WorkUnits/CostModel.swift) against whole work
# units searched as workers search them: the three real filterbanks of ../shared/data and
# simulated noise (2^20 spectra x 64 channels, with and without acceleration trials; 2^22 x 32),
# cut by the tiny preset. Prints, per unit, what its volunteer is credited (reference-core
# seconds) beside the CPU seconds measured here, and their ratio (0.8-1.2 is the goal on the
# reference core, the project's build machine). A few minutes; extra arguments go to every
# `xunxing bench units` run (e.g. --fft-rigor measure, --runs 5).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product xunxing
bin=.build/release/xunxing
for file in tutorial parkes_8bit_1 frb121102; do
    "$bin" bench units "../shared/data/$file.fil" --preset workunits/tiny.json --max-units 10 "$@"
done
"$bin" bench units --simulate 20 --channels 64 --preset workunits/tiny.json --max-units 10 "$@"
"$bin" bench units --simulate 20 --channels 64 --preset workunits/tiny.json --max-units 6 --accel-max 50 "$@"
"$bin" bench units --simulate 22 --channels 32 --preset workunits/tiny.json --max-units 6 --dm-max 100 "$@"
