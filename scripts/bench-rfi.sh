#!/usr/bin/env bash
# Release-build benchmark of the RFI mask pass (issue 16): a simulated 1024-channel 8-bit
# filterbank of 2^18 spectra (268 MB, with hot channels, impulses and a drifting carrier), timed
# three ways in one process: a plain read and unpack, the mask pass of `xunxing rfi`, and a read
# through the cleaning. Prints MB per CPU-second and each ratio to the read (goal: the mask pass
# under 2x the read). Extra arguments go to `xunxing bench rfi` (e.g. --channels 4096 --log2-samples 16).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product xunxing
.build/release/xunxing bench rfi "$@"
