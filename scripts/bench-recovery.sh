#!/usr/bin/env bash
# Injection-recovery benchmark (issue 12, part 8): simulated filterbanks with one pulsar, red noise
# and interference, searched by `xunxing search` over a DM range around the injection; for each cell
# of a grid of periods, DMs, duty cycles and S/N, the measured sigma and folded S/N against the ideal
# S/N of the injected profile, and the fraction recovered; riptide (rseek's search) on the same data
# dedispersed at the true DM, where the period is in its range. One command, release build:
#
#   scripts/bench-recovery.sh                  # GRID=quick, 7-14 minutes on 2 shared cores
#   GRID=full SEEDS=2 scripts/bench-recovery.sh
#
# Needs Swift, the C libraries (scripts/install-deps.sh runs first), numpy, and riptide for its
# columns: `pip install riptide-ffa` (outside the repository; RIPTIDE=0 skips it). Knobs (defaults):
#   GRID [quick]     quick: P 1.537, 5.318, 21.73, 103.7, 510.0, 2031 ms x DM 0, 10, 50, 200 x duty 1, 5,
#                    10 % x S/N 10, 20 (144 cells, 7-14 minutes); full: P as quick x DM 0, 10, 50, 200,
#                    500 x duty 1, 5, 10, 20 % x S/N 6, 10, 20 (360 cells, ~40 minutes per seed).
#                    The periods are not whole numbers of samples (a period of exactly 15 samples
#                    puts every pulse on the same sample phase, up to 1.4x the asked S/N for pulses
#                    narrower than a sample) and, below 1 s, more than 1.5 Fourier bins from the
#                    50 Hz mains and its subharmonics 50/k Hz (which the FFA and our fold refinement
#                    both lock onto); at 2 s no period is (they are 0.26 bins apart there)
#   PERIODS, DMS, DUTIES, SNRS   override the grid's lists (periods in s, duty cycles as fractions)
#   SEEDS [1]        simulations per cell (different noise, same pulsar)
#   INTERFERENCE ["--red-noise 0.02 --mains 0.01 --hot-channel 12 --impulse-rate 0.2 --impulse-amplitude 1"]
#                    `xunxing simulate` options for red noise and RFI, amplitudes in per-channel noise
#                    sigma ("" for white noise only). In units of the 64-channel sum's white noise:
#                    red noise of 0.16 sigma rms (1/f^2, above the white noise below ~2 Hz), 50 Hz
#                    mains of amplitude 0.08 sigma with 5 harmonics (an FFT power ~800 times the
#                    noise at DM 0), 1 ms impulses of 8 sigma every 5 s on average, and one channel
#                    with 10x the noise power (all undispersed; the hot channel is not masked)
#   CHANNELS [64] FCH1 [1500] FOFF [-4] TSAMP [100e-6] SAMPLES [524288] NBITS [8]   the filterbank
#   DM_HALF_WIDTH [20] DM_FRACTION [0.2]   searched DMs: the injected DM +- max(DM_HALF_WIDTH,
#                    DM_FRACTION x DM), clipped at 0
#   SIGMA [5]        xunxing search --sigma; a detection needs this sigma at the injected period
#   TOL_BINS [2]     a detection is within this many Fourier bins (1/T) of the injected frequency
#                    (of r x it for the harmonics r = 2, 3, 4, 1/2, 1/3, 3/2, 2/3, reported apart)
#   IDEAL_MIN [8]    cells whose ideal S/N is below this are left out of the per-period summary
#   RATIO_MIN [12]   and its S/N ratios come from cells whose ideal S/N is at least this (near the
#                    threshold only the upward fluctuations are detected, which flatters the ratio)
#   RIPTIDE [1] RIPTIDE_PMIN [0.1] RIPTIDE_DMMIN [2]   run riptide on cells with P >= RIPTIDE_PMIN s
#                    (its 240-260 phase bins need P >= ~25 ms at 100 us; rseek's defaults are for
#                    P > 0.1 s) and DM >= RIPTIDE_DMMIN (at DM 0 the FFA folds the undispersed mains
#                    at every multiple of 20 ms, within 2/T of any period above ~0.5 s); it searches
#                    0.8 P to 1.25 P with rseek's other defaults
#   JOBS [2] THREADS [1]   cells simulated and searched at once; threads per search
#   BENCH_DIR [/tmp/xunxing-bench-recovery]  series and results (filterbanks are deleted after use)
#   RESUME [0]       1: keep the results already in BENCH_DIR and run only the missing cells
#   TABLE_ONLY [0]   1: print the table of the last run in BENCH_DIR again, run nothing
#
# Per cell and seed: `xunxing simulate` writes the filterbank; `xunxing search FIL --dm-min --dm-max
# --format json` searches it (ours); scripts/recovery.py dedisperses the same filterbank at the true
# DM into a PRESTO .dat/.inf, which `xunxing search` (dat: no DM search, no DM rules) and riptide
# (scripts/riptide_time.py, rseek's search) both search. The ideal S/N and the table are
# scripts/recovery.py's (its docstring defines the ideal S/N).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
X=$ROOT/.build/release/xunxing
DIR=${BENCH_DIR:-/tmp/xunxing-bench-recovery}

if [ "${1:-}" = --cell ]; then
    # One cell and seed (called through xargs below): P DM DUTY SNR SEED BASE DMLO DMHI
    shift
    P=$1 DM=$2 DUTY=$3 SNR=$4 SEED=$5 BASE=$6 DMLO=$7 DMHI=$8
    [ -s "$BASE.fil.json" ] && [ "${RESUME:-0}" = 1 ] && exit 0
    # shellcheck disable=SC2086  # INTERFERENCE is a list of options
    "$X" simulate "$BASE.fil" --period "$P" --dm "$DM" --snr "$SNR" --duty-cycle "$DUTY" --seed "$SEED" \
        --channels "$CHANNELS" --fch1 "$FCH1" --foff="$FOFF" --tsamp "$TSAMP" --samples "$SAMPLES" \
        --nbits "$NBITS" $INTERFERENCE >/dev/null
    "$X" search "$BASE.fil" --dm-min="$DMLO" --dm-max="$DMHI" --sigma "$SIGMA" --threads "$THREADS" \
        --format json --quiet >"$BASE.fil.json.tmp" 2>"$BASE.err" && mv "$BASE.fil.json.tmp" "$BASE.fil.json"
    python3 scripts/recovery.py dedisperse "$BASE.fil" "$DM" "$BASE" "$P" "$DUTY"
    rm -f "$BASE.fil"
    "$X" search "$BASE.inf" --sigma "$SIGMA" --threads "$THREADS" --format json --quiet \
        >"$BASE.dat.json.tmp" 2>>"$BASE.err" && mv "$BASE.dat.json.tmp" "$BASE.dat.json"
    if [ "$RIPTIDE" = 1 ] && python3 -c "import sys; sys.exit(0 if $P >= $RIPTIDE_PMIN and $DM >= $RIPTIDE_DMMIN else 1)"; then
        pmin=$(python3 -c "print(0.8 * $P)") pmax=$(python3 -c "print(1.25 * $P)")
        python3 scripts/riptide_time.py "$BASE.inf" --repeats 1 --Pmin "$pmin" --Pmax "$pmax" \
            >"$BASE.riptide.json.tmp" 2>>"$BASE.err" && mv "$BASE.riptide.json.tmp" "$BASE.riptide.json"
    fi
    rm -f "$BASE.dat"
    echo "P=$P DM=$DM duty=$DUTY S/N=$SNR seed=$SEED done" >&2
    exit 0
fi

export GRID=${GRID:-quick}
case $GRID in
    quick) dms="0 10 50 200" snrs="10 20" duties="0.01 0.05 0.1" ;;
    full) dms="0 10 50 200 500" snrs="6 10 20" duties="0.01 0.05 0.1 0.2" ;;
    *) echo "GRID must be quick or full, not $GRID" >&2; exit 1 ;;
esac
export PERIODS=${PERIODS:-"0.0015373 0.0053179 0.0217311 0.103713 0.51003 2.03073"}
export DMS=${DMS:-$dms} DUTIES=${DUTIES:-$duties} SNRS=${SNRS:-$snrs}
export SEEDS=${SEEDS:-1}
export INTERFERENCE=${INTERFERENCE-"--red-noise 0.02 --mains 0.01 --hot-channel 12 --impulse-rate 0.2 --impulse-amplitude 1"}
export CHANNELS=${CHANNELS:-64} FCH1=${FCH1:-1500} FOFF=${FOFF:--4} TSAMP=${TSAMP:-100e-6}
export SAMPLES=${SAMPLES:-524288} NBITS=${NBITS:-8}
export DM_HALF_WIDTH=${DM_HALF_WIDTH:-20} DM_FRACTION=${DM_FRACTION:-0.2}
export SIGMA=${SIGMA:-5} TOL_BINS=${TOL_BINS:-2} IDEAL_MIN=${IDEAL_MIN:-8} RATIO_MIN=${RATIO_MIN:-12}
export RIPTIDE=${RIPTIDE:-1} RIPTIDE_PMIN=${RIPTIDE_PMIN:-0.1} RIPTIDE_DMMIN=${RIPTIDE_DMMIN:-2}
export JOBS=${JOBS:-2} THREADS=${THREADS:-1} RESUME=${RESUME:-0}
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMBA_NUM_THREADS=1
export X

if [ "${TABLE_ONLY:-0}" = 1 ]; then
    python3 scripts/recovery.py table "$DIR/cells.tsv"
    exit 0
fi

bash scripts/install-deps.sh
python3 -c "import numpy" || { echo "numpy is needed: pip install numpy" >&2; exit 1; }
if [ "$RIPTIDE" = 1 ]; then
    python3 -c "import riptide" 2>/dev/null || { echo "riptide not found: pip install riptide-ffa (or RIPTIDE=0)" >&2; exit 1; }
fi
swift build -c release --product xunxing >&2

mkdir -p "$DIR"
[ "$RESUME" = 1 ] || rm -f "$DIR"/*.json "$DIR"/*.err "$DIR"/*.inf "$DIR"/*.dat "$DIR"/*.fil "$DIR"/*.tmp
python3 - "$DIR/meta.json" <<'PY'
import json, os, sys
keys = ["GRID", "PERIODS", "DMS", "DUTIES", "SNRS", "SEEDS", "INTERFERENCE", "DM_HALF_WIDTH", "DM_FRACTION",
        "NBITS", "RIPTIDE_PMIN", "RIPTIDE_DMMIN"]
meta = {k.lower(): os.environ[k] for k in keys}
meta.update(channels=int(os.environ["CHANNELS"]), fch1=float(os.environ["FCH1"]), foff=float(os.environ["FOFF"]),
            tsamp=float(os.environ["TSAMP"]), samples=int(os.environ["SAMPLES"]), sigma_min=float(os.environ["SIGMA"]),
            tol_bins=float(os.environ["TOL_BINS"]), summary_ideal_min=float(os.environ["IDEAL_MIN"]),
            summary_ratio_min=float(os.environ["RATIO_MIN"]))
json.dump(meta, open(sys.argv[1], "w"), indent=1)
PY

# The grid, one line per cell and seed: P DM DUTY SNR SEED BASE DMLO DMHI. Seeds differ between
# cells and seeds and are the same from run to run.
CELLS=$DIR/cells.tsv
: >"$CELLS"
for P in $PERIODS; do
    for DM in $DMS; do
        read -r DMLO DMHI < <(python3 -c "
h = max($DM_HALF_WIDTH, $DM_FRACTION * $DM); print(max(0.0, $DM - h), $DM + h)")
        for DUTY in $DUTIES; do
            for SNR in $SNRS; do
                for ((k = 1; k <= SEEDS; k++)); do
                    name=p${P}_dm${DM}_d${DUTY}_s${SNR}_${k}
                    seed=$(printf '%s' "$name" | cksum | cut -d' ' -f1)
                    printf '%s %s %s %s %s %s %s %s\n' "$P" "$DM" "$DUTY" "$SNR" "$seed" "$DIR/$name" "$DMLO" "$DMHI" >>"$CELLS"
                done
            done
        done
    done
done
echo "$(wc -l <"$CELLS") simulations, $JOBS at a time; results in $DIR" >&2
start=$(date +%s)
xargs -P "$JOBS" -L 1 bash "$0" --cell <"$CELLS" || echo "some cells failed: see $DIR/*.err" >&2
echo "finished in $(( $(date +%s) - start )) s" >&2
python3 scripts/recovery.py table "$CELLS" | tee "$DIR/table.txt"
