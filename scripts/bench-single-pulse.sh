#!/usr/bin/env bash
# Release-build benchmark of the single-pulse search (issue 17): a simulated 1024-channel
# filterbank of 2^18 spectra, 64 DM trials dedispersed by the search's subband dedisperser and then
# searched with boxcars up to 0.1 s, in one process. Prints CPU ms per trial of each and the ratio
# (goal: the single-pulse search under the dedispersion). Extra arguments go to
# `xunxing bench single-pulse` (e.g. --trials 128 --max-width 0.05).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product xunxing
.build/release/xunxing bench single-pulse "$@"
