#!/usr/bin/env bash
# Fuzzes the parsers of untrusted bytes with libFuzzer (issue 7): the SIGPROC filterbank, PSRFITS (through CFITSIO) and .tim
# readers, the PRESTO .inf/.dat reader, the work-unit payload reader ("XXWUNIT1") and the
# coordinator's JSON request bodies (signup, host registration, work request, result report with
# what the validator and assimilator do with its candidates, platform link).
#
#   bash scripts/fuzz.sh [--runs N] [TARGET ...]     # default: 1000000 runs of every target
#
# TARGET is filterbank, psrfits, tim, inf, payload or api-bodies. Each target's contract (Sources/FuzzTargets):
# an input is either accepted with sane output or refused with a typed error (FormatError,
# PayloadError, RequestBodyError) whose message names the file and the field; anything else (a
# trap, an untyped or unclear error, an accepted input with impossible output) aborts, and
# libFuzzer saves the input in .build-fuzz/artifacts/. An input running over 10 s is a hang.
#
# How: the package's Swift modules are built in release mode with coverage instrumentation
# (`-sanitize=fuzzer`) in their own scratch directory, .build-fuzz, and linked with
# scripts/fuzz/LibFuzzerMain.swift into .build-fuzz/xunxing-libfuzzer, whose libFuzzer `main` is
# run once per target from the target's seed corpus (valid files written by the project's own
# writers). Inputs are written to /dev/shm. Each run starts from the seeds alone (set
# FUZZ_KEEP_CORPUS=1 to keep what earlier runs found). The C kernels are not instrumented.
#
# Prints, per target: inputs run, wall time, inputs/s, crashes; the last figures are in the README.
# The scaled-down version (seeds + 4000 mutations per target) is the test suite
# `swift test --filter FuzzTests`, run by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=1000000
targets=()
while (($#)); do
    case "$1" in
        --runs) runs="$2"; shift 2 ;;
        -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
        *) targets+=("$1"); shift ;;
    esac
done
((${#targets[@]})) || targets=(filterbank tim inf payload api-bodies)

scratch=.build-fuzz
swift build -c release --scratch-path "$scratch" -Xswiftc -sanitize=fuzzer --target FuzzTargets
bin="$scratch/release"
objects=()
for module in PulsarSearch XunxingProtocol WorkUnits FuzzTargets CSearchKernels; do
    objects+=("$bin/$module.build"/*.o)
done
swiftc -O -sanitize=fuzzer -parse-as-library -module-name XunxingLibFuzzer \
    -I "$bin/Modules" \
    -Xcc -fmodule-map-file=Sources/CFFTW3/module.modulemap \
    -Xcc -fmodule-map-file=Sources/CCFITSIO/module.modulemap \
    -Xcc -fmodule-map-file="$bin/CSearchKernels.build/module.modulemap" \
    -Xcc -I -Xcc Sources/CSearchKernels/include \
    scripts/fuzz/LibFuzzerMain.swift "${objects[@]}" -lfftw3f -lcfitsio -lm \
    -o "$scratch/xunxing-libfuzzer"

summary=()
failed=0
for t in "${targets[@]}"; do
    seeds="$scratch/seeds/$t" corpus="$scratch/corpus/$t" log="$scratch/logs/$t.log"
    rm -rf "$seeds"
    [ "${FUZZ_KEEP_CORPUS:-0}" = 1 ] || rm -rf "$corpus"
    mkdir -p "$seeds" "$corpus" "$scratch/artifacts" "$scratch/logs"
    rm -f "$scratch/artifacts/$t-"*
    XUNXING_FUZZ_TARGET="$t" XUNXING_FUZZ_WRITE_SEEDS="$seeds" "$scratch/xunxing-libfuzzer"
    start=$(date +%s.%N)
    status=0
    # The Swift runtime's backtracer would take the crash signal from libFuzzer, which then saves no input.
    SWIFT_BACKTRACE=enable=no XUNXING_FUZZ_TARGET="$t" "$scratch/xunxing-libfuzzer" "$corpus" "$seeds" \
        -runs="$runs" -timeout=10 -max_len=4096 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$scratch/artifacts/$t-" >"$log" 2>&1 || status=$?
    end=$(date +%s.%N)
    executed=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    executed=${executed:-0}
    seconds=$(echo "$end - $start" | bc -l)
    rate=$(echo "$executed / $seconds" | bc -l)
    crashes=$(find "$scratch/artifacts" -name "$t-*" | wc -l)  # crash-, timeout-, oom- files
    if [ "$status" -ne 0 ]; then
        failed=1
        grep -E 'contract violated|Fatal error|ERROR: libFuzzer|Test unit written' "$log" | head -5 || true
        echo "  log: $log"
    fi
    line=$(printf '%-11s %9d inputs %8.1f s %9.0f inputs/s  exit %d  crashes %d  corpus %d files' \
        "$t" "$executed" "$seconds" "$rate" "$status" "$crashes" "$(find "$corpus" -type f | wc -l)")
    echo "$line"
    summary+=("$line")
done
echo
echo "libFuzzer, $runs runs per target ($(nproc) cores, $(date -u +%Y-%m-%d)):"
printf '%s\n' "${summary[@]}"
exit "$failed"
