#!/usr/bin/env python3
"""Times riptide's FFA search of one PRESTO time series in this process, for scripts/bench-search.sh.

The search is exactly rseek's (riptide/apps/rseek.py): ffa_search with the same options (fpmin=1,
ducy_max=0.3 unless --fpmin and --ducy_max say otherwise), find_peaks, and clustering of the peaks
by frequency. Reading the file and importing
riptide are outside the timed part. Prints one JSON object:
  {"seconds": median search time, "peaks": [{"period": s, "snr": S/N, "ducy": fraction}, ...]}
strongest first. riptide's S/N is the boxcar matched-filter S/N of the folded profile at the best
trial width (not corrected for the number of trials). --clock cpu times the process's CPU time
(riptide searches in the calling thread), which equals the wall time on an idle machine and is
steadier when other jobs share the cores.
"""
import argparse
import json
import statistics
import time

import numpy as np
from riptide import TimeSeries, ffa_search, find_peaks
from riptide.clustering import cluster1d


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("inf")
    ap.add_argument("--Pmin", type=float, default=1.0)
    ap.add_argument("--Pmax", type=float, default=10.0)
    ap.add_argument("--bmin", type=int, default=240)
    ap.add_argument("--bmax", type=int, default=260)
    ap.add_argument("--smin", type=float, default=7.0)
    ap.add_argument("--wtsp", type=float, default=1.5)
    ap.add_argument("--rmed_width", type=float, default=4.0)
    ap.add_argument("--rmed_minpts", type=float, default=101)
    ap.add_argument("--clrad", type=float, default=0.2)
    ap.add_argument("--fpmin", type=int, default=1)
    ap.add_argument("--ducy_max", type=float, default=0.3)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    args = ap.parse_args()

    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    ts = TimeSeries.from_presto_inf(args.inf)
    times = []
    peaks = []
    for _ in range(max(1, args.repeats)):
        start = clock()
        __, pgram = ffa_search(
            ts, period_min=args.Pmin, period_max=args.Pmax, bins_min=args.bmin, bins_max=args.bmax,
            rmed_width=args.rmed_width, rmed_minpts=args.rmed_minpts, wtsp=args.wtsp, fpmin=args.fpmin, ducy_max=args.ducy_max)
        peaks, __ = find_peaks(pgram, smin=args.smin, clrad=args.clrad)
        if peaks:
            freqs = np.asarray([p.freq for p in peaks])
            clusters = cluster1d(freqs, r=args.clrad / ts.length)
            peaks = [max((peaks[i] for i in c), key=lambda p: p.snr) for c in clusters]
            peaks = sorted(peaks, key=lambda p: p.snr, reverse=True)
        times.append(clock() - start)
    print(json.dumps({
        "seconds": statistics.median(times),
        "peaks": [{"period": float(p.period), "snr": float(p.snr), "ducy": float(p.ducy)} for p in peaks[:50]],
    }))


if __name__ == "__main__":
    main()
