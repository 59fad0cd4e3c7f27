#!/usr/bin/env bash
# Release-build benchmark of the periodicity search against the bare FFTW transform.
# The first run plans FFTW with MEASURE (about a minute for 2^22 points) and keeps the wisdom in
# ~/.cache/xunxing/fftw-wisdom; later runs start at once. Extra arguments go to `xunxing bench`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product xunxing
.build/release/xunxing bench "$@"
