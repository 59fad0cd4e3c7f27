#!/usr/bin/env python3
"""Times the dedispersion of PyPI's `your` (your.utils.astro.dedisperse: each channel rolled by
its delay, then summed over channels) on the first 2^13 spectra of a filterbank, at an evenly
spaced subset of the DM trials in a dms.txt file, and prints MB of filterbank per CPU-second for
the whole DM list (the per-DM time is the same at every DM: it is a roll of every channel).

usage: your_dedisperse_time.py FILE.fil dms.txt [--slice-log2 13] [--dms 20]
"""
import argparse
import time

import numpy as np
from your import Your
from your.utils.astro import dedisperse


def main():
    p = argparse.ArgumentParser()
    p.add_argument("file")
    p.add_argument("dms")
    p.add_argument("--slice-log2", type=int, default=13)
    p.add_argument("--dms-timed", type=int, default=20)
    a = p.parse_args()
    y = Your(a.file)
    n = 1 << a.slice_log2
    data = y.get_data(nstart=0, nsamp=n).astype(np.float32).T.copy()  # (channels, time)
    freqs = np.asarray(y.chan_freqs, dtype=np.float64)
    tsamp = y.your_header.tsamp
    dms = [float(x) for x in open(a.dms).read().split()]
    subset = dms[:: max(1, len(dms) // a.dms_timed)][: a.dms_timed]
    start = time.process_time()
    for dm in subset:
        series = dedisperse(data, dm, tsamp, chan_freqs=freqs).sum(axis=0)
    cpu = time.process_time() - start
    per_dm = cpu / len(subset)
    megabytes = n * data.shape[0] * y.your_header.nbits / 8 / 1e6
    print(f"your {getattr(__import__('your'), '__version__', '?')}: {len(subset)} of {len(dms)} DMs on 2^{a.slice_log2} spectra "
          f"x {data.shape[0]} channels: {per_dm * 1e3:.1f} ms CPU per DM; for all {len(dms)} DMs "
          f"{megabytes / (per_dm * len(dms)):.2f} MB/CPU-s")
    assert np.isfinite(series).all()


if __name__ == "__main__":
    main()
