#!/usr/bin/env bash
# Release-build benchmark of the FFA search (issue 17) against riptide's (PyPI riptide-ffa), on the
# same simulated series in the same run, over a grid of periods and duty cycles.
#
# For each period P and duty cycle D a PRESTO series is simulated (2^LOG2 samples of TSAMP, one
# pulsar of matched-filter S/N SNR); then `xunxing bench ffa` (ours, in process, one thread) and
# scripts/riptide_time.py (riptide's ffa_search + find_peaks, in process) search it with the same
# options: periods PMIN-PMAX, 240-260 bins, widths up to a duty cycle of 0.2 in steps of 1.5,
# running median 4 s, at least 3 turns. Both report CPU seconds (median of REPEATS runs) and the best
# S/N within 0.5 % of P. Goals: our S/N within 5 % of riptide's, our time within 2x of riptide's.
#
# Needs `pip install riptide-ffa`. Knobs (defaults in brackets): LOG2 [20], TSAMP [64e-6],
# SNR [15], PERIODS ["0.7 2.3 7.1 15.3"], DUTIES ["0.01 0.03 0.1"], PMIN [0.5], PMAX [20],
# REPEATS [3], BENCH_DIR [/tmp/xunxing-bench-ffa].
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    bash scripts/install-deps.sh
    python3 -c "import riptide" 2>/dev/null || { echo "riptide not found: pip install riptide-ffa" >&2; exit 1; }
    swift build -c release --product xunxing >&2
fi
X=$PWD/.build/release/xunxing
LOG2=${LOG2:-20}
TSAMP=${TSAMP:-64e-6}
SNR=${SNR:-15}
PERIODS=${PERIODS:-"0.7 2.3 7.1 15.3"}
DUTIES=${DUTIES:-"0.01 0.03 0.1"}
PMIN=${PMIN:-0.5}
PMAX=${PMAX:-20}
REPEATS=${REPEATS:-3}
DIR=${BENCH_DIR:-/tmp/xunxing-bench-ffa}
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMBA_NUM_THREADS=1
mkdir -p "$DIR"
ROWS=$DIR/rows.tsv
: >"$ROWS"
seed=1
for P in $PERIODS; do
    for D in $DUTIES; do
        base=$DIR/p${P}_d${D}
        seed=$((seed + 1))
        "$X" simulate "$base" --format presto --samples $((1 << LOG2)) --tsamp "$TSAMP" --seed "$seed" \
            --period "$P" --snr "$SNR" --duty-cycle "$D" >/dev/null 2>&1
        echo "P=$P s, duty $D: xunxing, riptide..." >&2
        "$X" bench ffa --series "$base.inf" --period "$P" --period-min "$PMIN" --period-max "$PMAX" \
            --repeats "$REPEATS" >"$base.ours.json"
        python3 scripts/riptide_time.py "$base.inf" --Pmin "$PMIN" --Pmax "$PMAX" --fpmin 3 --ducy_max 0.2 \
            --repeats "$REPEATS" --clock cpu >"$base.riptide.json"
        printf '%s\t%s\t%s\n' "$P" "$D" "$base" >>"$ROWS"
    done
done

python3 - "$ROWS" "$SNR" "$LOG2" "$TSAMP" <<'PY'
import json, sys
rows, snr, log2, tsamp = sys.argv[1:5]
print(f"FFA search, 2^{log2} samples of {tsamp} s, injected S/N {snr}; one thread each, CPU seconds (median).")
print("S/N: best periodogram S/N within 0.5 % of the period (ours) / best peak there (riptide).")
fmt = "{:>7}{:>7}{:>10}{:>10}{:>9}{:>9}{:>9}{:>9}"
print(fmt.format("P s", "duty", "ours S/N", "rip S/N", "S/N", "ours s", "rip s", "time"))
snr_ratios, time_ratios = [], []
for line in open(rows):
    P, D, base = line.split()
    ours = json.load(open(base + ".ours.json"))
    rip = json.load(open(base + ".riptide.json"))
    near = [p for p in rip["peaks"] if abs(p["period"] - float(P)) < 5e-3 * float(P)]
    rsnr = max((p["snr"] for p in near), default=None)
    osnr = ours.get("snr")
    sr = (osnr / rsnr) if (osnr and rsnr) else None
    tr = ours["seconds"] / rip["seconds"]
    if sr: snr_ratios.append(sr)
    time_ratios.append(tr)
    f = lambda x, spec: format(x, spec) if x is not None else "-"
    print(fmt.format(P, D, f(osnr, ".2f"), f(rsnr, ".2f"), f(sr, ".3f"), f(ours["seconds"], ".3f"),
                     f(rip["seconds"], ".3f"), f(tr, ".2f")))
print()
if snr_ratios:
    print(f"S/N ours/riptide: min {min(snr_ratios):.3f}, max {max(snr_ratios):.3f} (goal: every one >= 0.95): "
          + ("met" if min(snr_ratios) >= 0.95 else "not met"))
print(f"time ours/riptide: min {min(time_ratios):.2f}, max {max(time_ratios):.2f} (goal: every one <= 2): "
      + ("met" if max(time_ratios) <= 2 else "not met"))
PY
