#!/usr/bin/env bash
# The whole `xunxing search` of a 2^22-sample time series, as one process, against its floor
# (`xunxing bench floor`: process start, reading the file, one FFTW r2c transform from cached
# wisdom and one pass over the spectrum), measured alternately in the same run (issue 12).
#
# Knobs (environment):
#   LOG2=22          series length (2^LOG2 samples of 64 us)
#   PULSARS=20       pulsars injected (periods 1.7 ms to 1.9 s, log-spaced), so that FOLD of them
#                    are real candidates to fold
#   RUNS=5           timed runs of each command (the median is reported)
#   HARMONICS=16     harmonics summed by the search
#   FOLD=20          candidates folded (the search's default)
#   SIGMA=           reporting threshold (empty: the search's default); a low one (e.g. 2) makes
#                    the search fold its full --fold quota even in noise, the worst case
#   BASELINE=        another xunxing binary (an older commit's) to time beside this one
#   BUILD=1          0 skips `swift build -c release`
#   WORK=/tmp/xunxing-bench-whole   where the series and logs go
set -euo pipefail
cd "$(dirname "$0")/.."
LOG2=${LOG2:-22} RUNS=${RUNS:-5} PULSARS=${PULSARS:-20} HARMONICS=${HARMONICS:-16} FOLD=${FOLD:-20} SIGMA=${SIGMA:-}
BASELINE=${BASELINE:-} BUILD=${BUILD:-1} WORK=${WORK:-/tmp/xunxing-bench-whole}
if [ "$BUILD" = 1 ]; then
    bash scripts/install-deps.sh
    swift build -c release --product xunxing
fi
BIN=$PWD/.build/release/xunxing
mkdir -p "$WORK"
series=$WORK/pulsars${PULSARS}_$LOG2
if [ ! -f "$series.dat" ]; then
    # PULSARS pulsars (5% duty cycle, S/N 15 each) with periods log-spaced from 1.7 ms to 1.9 s, in
    # red noise, so that the search has PULSARS real candidates to fold. (No mains: a strong 50 Hz
    # line with its harmonics takes the strongest peaks until zapped, which issue 16 adds.)
    periods=$(python3 -c "import sys; n=$PULSARS; print(' '.join('--period %.7f' % (0.0017 * (1900/1.7) ** (i / max(1, n - 1))) for i in range(n)))")
    "$BIN" simulate "$series" --format presto --samples $((1 << LOG2)) --tsamp 64e-6 \
        $periods --dm 30 --snr 15 --duty-cycle 0.05 --red-noise 0.5 --seed 12 >/dev/null
fi
search_args=(search "$series.dat" --harmonics "$HARMONICS" --fold "$FOLD" --fft-rigor measure --format json)
[ -n "$SIGMA" ] && search_args+=(--sigma "$SIGMA")
# Plan and keep the wisdom first, so that no timed run plans.
echo "warming FFTW wisdom for 2^$LOG2 points (minutes the first time)..." >&2
"$BIN" bench floor "$series.dat" --fft-rigor measure >/dev/null
"$BIN" "${search_args[@]}" >"$WORK/search.json"

python3 - "$RUNS" "$WORK" "$BIN" "$BASELINE" "${search_args[@]}" <<'PY'
import json, os, resource, statistics, subprocess, sys, time
runs, work, binary, baseline = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
search = sys.argv[5:]
series = search[1]
commands = {
    "floor": [binary, "bench", "floor", series, "--fft-rigor", "measure"],
    "search": [binary] + search,
    "search --fold 0": [binary] + search + ["--fold", "0"],
}
if baseline:
    commands["baseline search"] = [baseline] + search
def timed(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True).stdout
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, out
walls = {k: [] for k in commands}
cpus = {k: [] for k in commands}
outputs = {}
for _ in range(runs):
    for name, cmd in commands.items():   # alternate, so drifting load hits all alike
        w, c, out = timed(cmd)
        walls[name].append(w); cpus[name].append(c); outputs[name] = out
floor_w, floor_c = statistics.median(walls["floor"]), statistics.median(cpus["floor"])
candidates = json.loads(outputs["search"])["candidates"]
print(f"series: {series} (2^{int(round(__import__('math').log2(os.path.getsize(series) / 4)))} samples); "
      f"median of {runs} alternating runs, whole processes; load average {os.getloadavg()[0]:.1f}")
print(f"{'command':<18}{'wall s':>9}{'/floor':>8}{'cpu s':>9}{'/floor':>8}")
for name in commands:
    w, c = statistics.median(walls[name]), statistics.median(cpus[name])
    print(f"{name:<18}{w:>9.3f}{w / floor_w:>8.2f}{c:>9.3f}{c / floor_c:>8.2f}")
folded = sum(1 for c in candidates if c.get("snr_folded", 0) > 0)
best = candidates[0] if candidates else None
print(f"search found {len(candidates)} candidates, folded {folded}; strongest: "
      + (f"P = {best['period_s'] * 1000:.3f} ms, sigma {best['sigma']:.1f}, folded S/N {best['snr_folded']:.1f}" if best else "none"))
PY
