#!/usr/bin/env bash
# Release-build benchmark of the splitter: 1024-channel 8-bit filterbanks (1200-1500 MHz, 64 us)
# of 2^18 and 2^20 spectra, 1000 DM trials, dedispersed and cut into payloads as the coordinator
# does. Prints MB/s of filterbank, the ratio to reading the same file alone, and the peak resident
# memory of each split, with the long/short ratios. Needs about 6 GB free in the temporary
# directory (the files, the spill file and the payloads of the long run; all removed at the end).
# Extra arguments go to `xunxing bench split` (e.g. --log2-samples 18 20 22, --work-dir DIR --keep).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product xunxing
.build/release/xunxing bench split "$@"
