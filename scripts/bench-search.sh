#!/usr/bin/env bash
# Benchmark of the full periodicity search against the bare FFTW transform and against riptide's
# FFA search (rseek), on the same simulated PRESTO time series. One command, release build:
#
#   scripts/bench-search.sh
#
# Needs Swift, the C libraries (scripts/install-deps.sh runs first) and riptide on PATH:
# `pip install riptide-ffa` (outside the repository). Environment knobs (defaults in brackets):
#   LOG2_SIZES ["20 21 22"]  series lengths, 2^N samples of TSAMP [64e-6] s
#   SNR [15]  injected matched-filter S/N; PERIODS ["0.5 1.5"] s, one pulsar per series, duty 5 %
#   PMIN [0.1] PMAX [2.0]    period range searched by both (ours: --min/--max-frequency)
#   REPEATS [5]              timed in-process runs of ours per measurement (medians are reported)
#   RIPTIDE_REPEATS [3]      the same for riptide (its searches take seconds)
#   CLOCK [cpu]              in-process clock for both: cpu (the process's CPU time: the wall time
#                            of an idle machine, steadier when other jobs share the cores) or wall
#   BENCH_DIR [/tmp/xunxing-bench-search]  where the series and results are written (kept)
#   TABLE_ONLY [0]           1: print the table of the last run in BENCH_DIR again, measure nothing
#
# Each series (one per period plus one of pure noise, per length) is searched single-threaded by:
#   ours    `xunxing bench --input` (in process: bare FFT, full search and one acceleration trial,
#           in alternating rounds) and `xunxing search --threads 1 --format json` (the whole
#           command: read, search, sift, fold; wall and user+system CPU seconds of one run);
#   riptide scripts/riptide_time.py (rseek's search in process, after reading the file) and
#           `rseek` itself (the whole command, with Python's start-up and imports).
# FFTW plans are MEASURE plans kept as wisdom in ~/.cache/xunxing (the first run of a new length
# spends up to a couple of minutes planning). All ratios are measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${TABLE_ONLY:-0}" != 1 ]; then
    bash scripts/install-deps.sh
    command -v rseek >/dev/null || { echo "rseek not found: pip install riptide-ffa" >&2; exit 1; }
    swift build -c release --product xunxing >&2
fi
X=$PWD/.build/release/xunxing

LOG2_SIZES=${LOG2_SIZES:-"20 21 22"}
TSAMP=${TSAMP:-64e-6}
SNR=${SNR:-15}
PERIODS=${PERIODS:-"0.5 1.5"}
PMIN=${PMIN:-0.1}
PMAX=${PMAX:-2.0}
REPEATS=${REPEATS:-5}
RIPTIDE_REPEATS=${RIPTIDE_REPEATS:-3}
CLOCK=${CLOCK:-cpu}
DIR=${BENCH_DIR:-/tmp/xunxing-bench-search}
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMBA_NUM_THREADS=1
mkdir -p "$DIR"
FMIN=$(python3 -c "print(1 / $PMAX)")
FMAX=$(python3 -c "print(1 / $PMIN)")
RIPTIDE_OPTS=(--Pmin "$PMIN" --Pmax "$PMAX")   # rseek's defaults otherwise: 240-260 bins, rmed 4 s
OURS_OPTS=(--min-frequency "$FMIN" --max-frequency "$FMAX")

# Runs a command once with its output in the file $1; prints "wall user+system" seconds.
timed() {
    local out=$1; shift
    /usr/bin/time -f "%e %U %S" -o "$out.time" "$@" >"$out" 2>/dev/null
    awk '{printf "%s %.2f\n", $1, $2 + $3}' "$out.time"
}

ROWS=$DIR/rows.tsv
[ "${TABLE_ONLY:-0}" = 1 ] && LOG2_SIZES="" || : >"$ROWS"
for L in $LOG2_SIZES; do
    n=$((1 << L))
    for P in $PERIODS noise; do
        base=$DIR/s${L}_$P
        seed=$((L * 100 + ${#P}))
        if [ ! -f "$base.inf" ]; then
            if [ "$P" = noise ]; then
                "$X" simulate "$base" --format presto --samples "$n" --tsamp "$TSAMP" --seed "$seed" >&2
            else
                "$X" simulate "$base" --format presto --samples "$n" --tsamp "$TSAMP" --seed "$seed" \
                    --period "$P" --snr "$SNR" --duty-cycle 0.05 >&2
            fi
        fi
        echo "2^$L, $P: xunxing..." >&2
        "$X" bench --input "$base.inf" --repeats "$REPEATS" --clock "$CLOCK" "${OURS_OPTS[@]}" >"$base.bench" 2>/dev/null
        # One untimed run first, so that both programs start with the file in the page cache.
        "$X" search "$base.inf" --threads 1 --fft-rigor measure --quiet --format json "${OURS_OPTS[@]}" >/dev/null
        read -r ours_wall ours_cpu < <(timed "$base.ours.json" \
            "$X" search "$base.inf" --threads 1 --fft-rigor measure --quiet --format json "${OURS_OPTS[@]}")
        echo "2^$L, $P: riptide..." >&2
        python3 scripts/riptide_time.py "$base.inf" --repeats "$RIPTIDE_REPEATS" --clock "$CLOCK" \
            "${RIPTIDE_OPTS[@]}" >"$base.riptide.json"
        read -r rip_wall rip_cpu < <(timed "$base.rseek.txt" rseek -f presto "${RIPTIDE_OPTS[@]}" "$base.inf")
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$L" "$P" "$base" "$ours_wall" "$ours_cpu" "$rip_wall" "$rip_cpu" >>"$ROWS"
    done
done

python3 - "$ROWS" "$PMIN" "$PMAX" "$CLOCK" "$REPEATS" "$RIPTIDE_REPEATS" <<'PY'
import json, re, sys
rows, pmin, pmax, clock, repeats, rip_repeats = sys.argv[1:7]

def bench(path):
    text = open(path).read()
    ms = lambda label: float(re.search(label + r":\s+([0-9.]+) ms", text).group(1))
    return ms("bare FFTW r2c"), ms(r"full search \(no accel\)"), ms("per acceleration trial")

def match(period, candidates):
    """Strongest candidate within 0.2 % of the injected period (noise: the strongest overall), else
    the strongest at a harmonic ratio (P/2, P/3, 2P, ...), labelled."""
    for ratio, label in [(1, ""), (1 / 2, "@P/2"), (1 / 3, "@P/3"), (2, "@2P"), (2 / 3, "@2P/3"), (3, "@3P")]:
        near = [c for c in candidates if period is None or abs(c[0] - ratio * period) < 2e-3 * ratio * period]
        if near:
            best = max(near, key=lambda c: c[1])
            return (best[0], f"{best[1]:.1f}{label}") + tuple(f"{x:.1f}" for x in best[2:])
        if period is None:
            return None
    return None

print(f"Period range searched by both: {pmin}-{pmax} s, one thread each. In-process: {clock} time, median")
print(f"of {repeats} (ours) and {rip_repeats} (riptide) runs. Whole commands: one run, wall (CPU) seconds.")
print("ours = xunxing FFT search, 16 harmonics; rip = riptide FFA (rseek's defaults: 240-260 bins, rmed 4 s).")
print("sigma: ours, Gaussian-equivalent, corrected for the trials of the series; fold: S/N of our folded")
print("profile; rip S/N: riptide's boxcar S/N of its folded profile (not trial-corrected).")
print()
fmt = "{:<14}{:>7}{:>8}{:>6}{:>10}{:>8}{:>9}{:>18}{:>14}{:>10}{:>6}{:>8}"
print(fmt.format("series", "FFT ms", "ours ms", "/FFT", "accel/FFT", "rip ms", "ours/rip",
                 "xunxing search s", "rseek s", "sigma", "fold", "rip S/N"))
ratios = []
for line in open(rows):
    L, P, base, ours_wall, ours_cpu, rip_wall, rip_cpu = line.split()
    fft, full, accel = bench(base + ".bench")
    ours = [(c["period_s"], c["sigma"], c["snr_folded"]) for c in json.load(open(base + ".ours.json"))["candidates"]]
    rip = json.load(open(base + ".riptide.json"))
    period = None if P == "noise" else float(P)
    o = match(period, ours)
    r = match(period, [(p["period"], p["snr"]) for p in rip["peaks"]])
    rip_ms = rip["seconds"] * 1000
    ratios.append((full / fft, accel / fft, full / rip_ms))
    label = f"2^{L} " + ("noise" if period is None else f"P={P}s")
    print(fmt.format(label, f"{fft:.1f}", f"{full:.1f}", f"{full / fft:.2f}", f"{accel / fft:.2f}",
        f"{rip_ms:.0f}", f"{full / rip_ms:.3f}", f"{float(ours_wall):.2f} ({float(ours_cpu):.2f})",
        f"{float(rip_wall):.2f} ({float(rip_cpu):.2f})",
        o[1] if o else "-", o[2] if o else "-", r[1] if r else "-"))
print()
print("Noise rows: the strongest false candidate (ours reports >= 5 sigma, riptide >= S/N 7); '-': none.")
print("@P/2 etc.: no candidate at the injected period; the strongest at that multiple of it.")
print(f"Worst case: full search {max(x[0] for x in ratios):.2f} x FFT (target 1.5), acceleration trial "
      f"{max(x[1] for x in ratios):.2f} x FFT (target 2); ours / riptide in process {max(x[2] for x in ratios):.3f}.")
PY
