#!/usr/bin/env bash
# Release-build benchmark of dedispersion (issue 18, part 3): a simulated 1024-channel 8-bit
# filterbank (2^18 spectra of 64 us, 268 MB) dedispersed at the first 1000 DM trials of the plan,
# in MB of filterbank per CPU-second: the read floor, the subband dedisperser's AVX2 kernel and
# the loops before it (one process, same file, same plan), then a peer on the same file and DM
# list: PyPI `your`'s dedispersion (pip install your), timed on a 2^13-spectrum slice.
# Extra arguments go to `xunxing bench dedisperse` (e.g. --log2-samples 20 --repeats 5).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product xunxing
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.build/release/xunxing bench dedisperse --work-dir "$work" --keep "$@"
if python3 -c "import your" 2>/dev/null; then
    python3 scripts/your_dedisperse_time.py "$work"/bench-dedisperse-*.fil "$work/dms.txt"
else
    echo "peer: python3 -c 'import your' failed; pip install your to compare"
fi
