#!/usr/bin/env python3
"""Helpers of scripts/bench-recovery.sh (the injection-recovery benchmark). numpy only.

  recovery.py dedisperse FIL DM BASE [P DUTY]   dedisperse a SIGPROC filterbank at DM into
                                       BASE.dat/.inf (with P and DUTY: also BASE.realised.json)
  recovery.py ideal P DM DUTY SNR ...  the ideal S/N of one injection (see ideal_snr), for checks
  recovery.py table ROWS               the per-cell table and the per-period summary of a run

The ideal S/N of a cell is the matched-filter S/N of the profile that `xunxing simulate` actually
injects (Sources/PulsarSearch/Simulation/Simulator.swift), dedispersed at the true DM with exact
(fractional-sample) delays, in white noise:

  * `--snr` is the matched-filter S/N of the whole observation in the quantised data, for a
    Gaussian of FWHM sqrt(w^2 + (0.68 tsamp)^2) in every channel (w = duty x period) summed over
    all pulses and channels, without the channel smearing and without removing the profile's mean;
  * the simulator then broadens each channel's pulse by its intra-channel DM smearing
    (FWHM sqrt(w_s^2 + (0.68 smear)^2), same area) and wraps it around the period (three turns);
  * a periodicity search cannot see the mean of the profile (it is the baseline), so the best
    any search can do is the S/N of the mean-subtracted profile: for a Gaussian of duty cycle d
    this is sqrt(1 - 1.5055 d) of the nominal value (0.99 at 1 %, 0.96 at 5 %, 0.92 at 10 %,
    0.83 at 20 %), and channel smearing lowers it further at high DM.

ideal = snr x sqrt(E_ideal / E_nominal), E the energy of the channel-summed profile per period.
"""
import json
import math
import os
import statistics
import struct
import sys

import numpy as np

K_DM = 4.148808e3  # s MHz^2 pc^-1 cm^3, as Sources/PulsarSearch/Dedispersion/Dispersion.swift


# --- SIGPROC filterbank ---------------------------------------------------------------------

def read_filterbank(path):
    """Header dict and data (samples x channels, float32) of an 8/16/32-bit SIGPROC filterbank."""
    with open(path, "rb") as f:
        raw = f.read()
    pos = 0

    def string():
        nonlocal pos
        n = struct.unpack_from("<i", raw, pos)[0]
        pos += 4
        s = raw[pos:pos + n].decode()
        pos += n
        return s

    if string() != "HEADER_START":
        raise SystemExit(f"{path}: not a SIGPROC filterbank")
    ints = {"nchans", "nbits", "nifs", "telescope_id", "machine_id", "data_type", "nbeams", "ibeam",
            "barycentric", "pulsarcentric"}
    doubles = {"fch1", "foff", "tsamp", "tstart", "src_raj", "src_dej", "az_start", "za_start", "refdm",
               "period"}
    header = {}
    while True:
        key = string()
        if key == "HEADER_END":
            break
        if key in ints:
            header[key] = struct.unpack_from("<i", raw, pos)[0]
            pos += 4
        elif key in doubles:
            header[key] = struct.unpack_from("<d", raw, pos)[0]
            pos += 8
        elif key in ("source_name", "rawdatafile"):
            header[key] = string()
        else:
            raise SystemExit(f"{path}: unknown header key {key}")
    dtype = {8: np.uint8, 16: np.uint16, 32: np.float32}.get(header["nbits"])
    if dtype is None:
        raise SystemExit(f"{path}: {header['nbits']}-bit data are not handled here")
    data = np.frombuffer(raw, dtype=dtype, offset=pos)
    nch = header["nchans"]
    return header, data[: data.size // nch * nch].reshape(-1, nch).astype(np.float32)


def write_presto(base, series, tsamp, dm, fbot, bandwidth, nchan):
    """BASE.dat (float32) and BASE.inf in PRESTO's layout ('=' at column 40, which riptide needs)."""
    series.astype("<f4").tofile(base + ".dat")
    rows = [
        ("Data file name without suffix", os.path.basename(base)),
        ("Telescope used", "Fake"),
        ("Instrument used", "xunxing simulate"),
        ("Object being observed", "injection"),
        ("J2000 Right Ascension (hh:mm:ss.ssss)", "00:00:00.0000"),
        ("J2000 Declination     (dd:mm:ss.ssss)", "00:00:00.0000"),
        ("Data observed by", "bench-recovery"),
        ("Epoch of observation (MJD)", "60000.000000000000000"),
        ("Barycentered?           (1 yes, 0 no)", "1"),
        ("Number of bins in the time series", str(series.size)),
        ("Width of each time series bin (sec)", repr(float(tsamp))),
        ("Any breaks in the data? (1 yes, 0 no)", "0"),
        ("Type of observation (EM band)", "Radio"),
        ("Beam diameter (arcsec)", "1"),
        ("Dispersion measure (cm-3 pc)", repr(float(dm))),
        ("Central freq of low channel (Mhz)", repr(float(fbot))),
        ("Total bandwidth (Mhz)", repr(float(bandwidth))),
        ("Number of channels", str(nchan)),
        ("Channel bandwidth (Mhz)", repr(float(bandwidth / nchan))),
        ("Data analyzed by", "bench-recovery"),
    ]
    with open(base + ".inf", "w") as f:
        for label, value in rows:
            f.write(f" {label:<39}=  {value}\n")
        f.write(" Any additional notes:\n    dedispersed by scripts/recovery.py\n\n")


def dedisperse(fil, dm, base, period=None, duty=None):
    """Incoherent dedispersion at `dm` with delays rounded to whole samples, referenced to the
    highest frequency (as the simulator and the search do); the first max-delay samples of the
    result are all that every channel covers, so the series is that much shorter."""
    h, data = read_filterbank(fil)
    nch, tsamp = h["nchans"], h["tsamp"]
    freqs = h["fch1"] + h["foff"] * np.arange(nch)
    ftop = freqs.max()
    shifts = np.rint(K_DM * dm * (1 / freqs ** 2 - 1 / ftop ** 2) / tsamp).astype(int)
    n = data.shape[0] - shifts.max()
    data -= data.mean(axis=0)
    out = np.zeros(n, dtype=np.float64)
    for c in range(nch):
        out += data[shifts[c]:shifts[c] + n, c]
    out /= out.std()
    write_presto(base, out.astype(np.float32), tsamp, dm, freqs.min(), abs(h["foff"]) * nch, nch)
    if period is not None:
        realised = realised_snr(out, tsamp, period, dm, duty, nch, h["fch1"], h["foff"])
        with open(base + ".realised.json", "w") as f:
            json.dump({"realised": realised}, f)


# --- ideal S/N ------------------------------------------------------------------------------

def injected_profile(period, dm, duty, phase, nchan=64, fch1=1500.0, foff=-4.0, tsamp=100e-6):
    """The channel sum of the simulator's per-channel pulse tables (unit amplitude before
    broadening) at `phase` (turns, array), dedispersed exactly: the peak is at phase 0."""
    width = duty * period
    sampled = math.hypot(width, 0.68 * tsamp)
    freqs = fch1 + foff * np.arange(int(nchan))
    smear = 2 * K_DM * dm * abs(foff) / freqs ** 3
    d = np.asarray(phase, dtype=np.float64) % 1.0
    d = np.where(d >= 0.5, d - 1, d)
    total = np.zeros_like(d)
    for w in np.hypot(sampled, 0.68 * smear):  # area kept: peak width / w
        turns = w / period
        total += (width / w) * sum(np.exp(-4 * math.log(2) * ((d + k) / turns) ** 2) for k in (-1, 0, 1))
    return total


def ideal_snr(period, dm, duty, snr, nchan=64, fch1=1500.0, foff=-4.0, tsamp=100e-6, grid=8192):
    """The matched-filter S/N of the injected profile (module docstring), and the factor by
    which it is below the nominal --snr."""
    width = duty * period
    sampled = math.hypot(width, 0.68 * tsamp)
    total = injected_profile(period, dm, duty, (np.arange(grid) + 0.5) / grid, nchan, fch1, foff, tsamp)
    e_ideal = period * np.mean((total - total.mean()) ** 2)  # per period, sum over time
    # Nominal: nchan identical unbroadened, unwrapped Gaussians: nchan^2 (width/sampled)^2 0.7527 sampled.
    e_nominal = nchan ** 2 * (width / sampled) ** 2 * math.sqrt(math.pi / (8 * math.log(2))) * sampled
    factor = math.sqrt(e_ideal / e_nominal)
    return snr * factor, factor


def realised_snr(series, tsamp, period, dm, duty, nchan, fch1, foff):
    """The matched-filter S/N of this noise realisation: the series correlated with the
    mean-removed injected profile at the true period and phase, over the white-noise sigma
    (from the median absolute first difference, which red noise and impulses hardly move).
    Its mean over seeds is the ideal S/N if the simulator's --snr means what it says; each run
    scatters by about +-1 around it."""
    x = np.asarray(series, dtype=np.float64)
    x = x - x.mean()
    sigma = 1.4826 * np.median(np.abs(np.diff(x) - np.median(np.diff(x)))) / math.sqrt(2)
    bins = int(min(8192, max(16, math.ceil(period / tsamp))))
    b = ((np.arange(x.size) * tsamp / period) % 1.0 * bins).astype(np.int64) % bins
    sums = np.bincount(b, weights=x, minlength=bins)
    counts = np.bincount(b, minlength=bins).astype(np.float64)
    t = injected_profile(period, dm, duty, (np.arange(bins) + 0.5) / bins, nchan, fch1, foff, tsamp)
    t = t - np.sum(counts * t) / counts.sum()
    return float(np.sum(t * sums) / (sigma * math.sqrt(np.sum(counts * t * t))))


# --- the table ------------------------------------------------------------------------------

HARMONICS = [(1, "")] + [(r, lab) for r, lab in [(2, "2f"), (3, "3f"), (4, "4f"), (1 / 2, "f/2"), (1 / 3, "f/3"),
                                                   (3 / 2, "3f/2"), (2 / 3, "2f/3")]]


def match(freq, duration, candidates, tol_bins):
    """(candidate, label): the strongest candidate within tol_bins Fourier bins of the injected
    frequency (label ''), else the strongest at a harmonic ratio of it (label '2f', 'f/2'...),
    else (None, None). candidates: dicts with 'freq' and 'sigma' or 'snr'."""
    tol = tol_bins / duration
    for ratio, label in HARMONICS:
        near = [c for c in candidates if abs(c["freq"] - ratio * freq) < tol * max(1, ratio)]
        if near:
            return max(near, key=lambda c: c.get("sigma", c.get("snr", 0))), label
    return None, None


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def candidates_of(doc):
    """The candidates of `xunxing search --format json` output (an object since issue 16; a bare
    list in files written before)."""
    return doc["candidates"] if isinstance(doc, dict) else doc


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def fmt(x, spec=".2f"):
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)


def power_snr(c):
    """The detection S/N of a candidate from its harmonic sum: a signal adds S_k^2 / 2 to the
    normalised power (mean 1 per bin) of harmonic k, so sqrt(2 (P_sum - h)) estimates the
    matched-filter S/N of the h harmonics summed (the part of the ideal S/N the FFT search sees)."""
    return math.sqrt(max(0.0, 2 * (c["power"] - c["harmonics"])))


def table(rows_path):
    meta = json.load(open(os.path.join(os.path.dirname(rows_path), "meta.json")))
    duration = meta["samples"] * meta["tsamp"]
    tol = meta["tol_bins"]
    sigma_min = meta["sigma_min"]
    cells = {}
    for line in open(rows_path):
        P, DM, duty, snr, seed, base = line.split()[:6]
        key = (float(P), float(DM), float(duty), float(snr))
        cells.setdefault(key, []).append(base)

    out = []
    w = out.append
    w(f"{meta['channels']} channels x {meta['samples']} samples of {meta['tsamp'] * 1e6:g} us, {meta['nbits']}-bit, "
      f"fch1 {meta['fch1']:g} MHz, foff {meta['foff']:g} MHz; interference: {meta['interference'] or 'none'}")
    w(f"DM searched: injected DM +- max({meta['dm_half_width']}, {meta['dm_fraction']} x DM); seeds per cell: "
      f"{meta['seeds']}; a detection: within {tol:g}/T of the injected frequency at sigma >= {sigma_min:g}.")
    w("ideal: matched-filter S/N of the injected profile after channel smearing, mean removed (recovery.py).")
    w("found: detections at the injected period / runs (+Nh: runs with only a harmonic, listed below); top:")
    w("runs where it is the strongest candidate. Medians over the detections: sigma, fold (folded S/N), pw")
    w("(harmonic-sum S/N, sqrt(2 (power - harmonics))), each also over ideal (/id), and dDM (best DM -")
    w("injected). dat: ours on the same filterbank dedispersed at the true DM (one DM trial): folded and")
    w("harmonic-sum S/N over ideal. rip: riptide's S/N on that series (n/a: not run) and over ideal.")
    w("real: the realised matched-filter S/N of that series (true template, period and phase) over ideal.")
    w("")
    hdr = ("{:>8} {:>4} {:>4} {:>4} {:>5} {:>7} {:>3} {:>5} {:>5} {:>5} {:>5} {:>5} {:>5} {:>6}"
           " {:>6} {:>6} {:>5} {:>6} {:>5}")
    w(hdr.format("P_ms", "DM", "duty", "S/N", "ideal", "found", "top", "sigma", "s/id", "fold", "f/id", "pw",
                 "pw/id", "dDM", "dat_f", "dat_pw", "rip", "rip/id", "real"))
    summary = {}
    for key in sorted(cells):
        P, DM, duty, snr = key
        ideal, _ = ideal_snr(P, DM, duty, snr, meta["channels"], meta["fch1"], meta["foff"], meta["tsamp"])
        f0 = 1 / P
        found = top = failed = rip_n = 0
        harm, dat_harm, rip_harm = [], [], []
        sig, fold, pw, ddm, dat_f, dat_pw, rip, real, paired = [], [], [], [], [], [], [], [], []
        n = len(cells[key])
        for base in cells[key]:
            ours = load(base + ".fil.json")
            if ours is None:
                failed += 1
                continue
            cands = [dict(c, freq=c["frequency_hz"]) for c in candidates_of(ours)]
            c, label = match(f0, duration, cands, tol)
            if c is not None and label == "" and c["sigma"] >= sigma_min:
                found += 1
                top += max(cands, key=lambda x: x["sigma"]) is c
                sig.append(c["sigma"])
                fold.append(c["snr_folded"])
                pw.append(power_snr(c))
                ddm.append(c["dm"] - DM)
            elif c is not None:
                harm.append(label or f"<{sigma_min:g}sig")
            rj = load(base + ".realised.json")
            if rj is not None:
                real.append(rj["realised"])
            dat = load(base + ".dat.json")
            dat_fold = None
            if dat is not None:
                dc, dl = match(f0, duration, [dict(x, freq=x["frequency_hz"]) for x in candidates_of(dat)], tol)
                if dc is not None and dl == "" and dc["sigma"] >= sigma_min:
                    dat_fold = dc["snr_folded"]
                    dat_f.append(dat_fold)
                    dat_pw.append(power_snr(dc))
                elif dc is not None:
                    dat_harm.append(dl or f"<{sigma_min:g}sig")
            rp = load(base + ".riptide.json")
            if rp is not None:
                rip_n += 1
                rc, rl = match(f0, duration, [dict(p, freq=1 / p["period"]) for p in rp["peaks"]], tol)
                if rc is not None and rl == "":
                    rip.append(rc["snr"])
                    if dat_fold:
                        paired.append(dat_fold / rc["snr"])
                elif rc is not None:
                    rip_harm.append(rl)

        def over(xs):
            return [x / ideal for x in xs] if ideal > 0 else []

        w(hdr.format(
            f"{P * 1e3:g}", f"{DM:g}", f"{duty * 100:g}%", f"{snr:g}", fmt(ideal, ".1f"),
            f"{found}/{n - failed}" + (f"+{len(harm)}h" if harm else ""), f"{top}",
            fmt(med(sig), ".1f"), fmt(med(over(sig))), fmt(med(fold), ".1f"), fmt(med(over(fold))),
            fmt(med(pw), ".1f"), fmt(med(over(pw))), fmt(med(ddm), "+.1f"),
            fmt(med(over(dat_f))), fmt(med(over(dat_pw))),
            fmt(med(rip), ".1f") if rip_n else "n/a", fmt(med(over(rip))) if rip_n else "n/a",
            fmt(med(over(real))) if ideal >= 2 else "-"))
        notes = []
        if harm:
            notes.append("ours only at " + ",".join(harm))
        if dat_harm:
            notes.append("dat only at " + ",".join(dat_harm))
        if rip_harm:
            notes.append("riptide only at " + ",".join(rip_harm))
        if failed:
            notes.append(f"{failed} search(es) failed")
        if notes:
            w("{:>8}   ({})".format("", "; ".join(notes)))

        s = summary.setdefault(P, dict(cells=0, ratio_cells=0, found={}, excluded=0, dm0=[0, 0, 0],
                                       **{k: [] for k in ("fr", "pr", "sr", "dr", "dpr", "rr", "paired", "real")}))
        if DM == 0:
            s["dm0"][0] += n - failed
            s["dm0"][1] += found
            s["dm0"][2] += len(dat_f)
        elif duty <= 0.10 + 1e-9 and ideal >= meta["summary_ideal_min"]:
            s["cells"] += 1
            k, r = s["found"].get(snr, (0, 0))
            s["found"][snr] = (k + found, r + n - failed)
            if ideal >= meta["summary_ratio_min"]:
                s["ratio_cells"] += 1
                for name, xs in (("fr", fold), ("pr", pw), ("sr", sig), ("dr", dat_f), ("dpr", dat_pw), ("rr", rip),
                                 ("real", real)):
                    s[name] += over(xs)
                s["paired"] += paired
        elif duty <= 0.10 + 1e-9:
            s["excluded"] += 1

    w("")
    w(f"Summary per period, cells with duty <= 10 %, DM > 0 and ideal S/N >= {meta['summary_ideal_min']:g}. found: runs with a")
    w("detection / runs, per nominal S/N. Ratios to the ideal S/N, lowest and median over the detections")
    w(f"(one per run) in the cells whose ideal S/N is >= {meta['summary_ratio_min']:g} (nearer the threshold only upward")
    w("fluctuations are detected), counted in 'cells': fold, pw, sigma as above; dat f, dat pw: ours on the")
    w("series at the true DM; rip: riptide on it; ours/rip: dat fold over riptide, paired by run; real:")
    w("realised matched-filter S/N (checks the ideal; the unmasked hot channel alone makes it 0.94).")
    w("goal (>= 0.9 of ideal) for fold and pw: 'met' if the lowest ratio is, 'median' if the median is, else 'no'.")
    snrs = sorted({k for s in summary.values() for k in s["found"]})
    sh = "{:>8} {:>5} {:>11} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>7} {:>5} {:>11}"
    w(sh.format("P_ms", "cells", "found", "fold", "pw", "sigma", "dat f", "dat pw", "rip", "ours/", "real",
                "goal"))
    w(sh.format("", "", "S/N " + ",".join(f"{x:g}" for x in snrs), "min  med", "min  med", "min  med", "min  med",
                "min  med", "min  med", "rip", "med", "fold pw"))

    def mm(xs):
        return f"{fmt(min(xs) if xs else None)} {fmt(med(xs)):>4}" if xs else "-"

    def goal(xs):
        return "-" if not xs else ("met" if min(xs) >= 0.9 else ("median" if med(xs) >= 0.9 else "no"))

    for P in sorted(summary):
        s = summary[P]
        found = " ".join(f"{k}/{r}" for _, (k, r) in sorted(s["found"].items())) or "-"
        w(sh.format(f"{P * 1e3:g}", f"{s['ratio_cells']}/{s['cells']}", found, mm(s["fr"]), mm(s["pr"]), mm(s["sr"]),
                    mm(s["dr"]), mm(s["dpr"]), mm(s["rr"]) if s["rr"] else "n/a", fmt(med(s["paired"])),
                    fmt(med(s["real"])), f"{goal(s['fr'])} {goal(s['pr'])}")
          + (f"  ({s['excluded']} below ideal {meta['summary_ideal_min']:g})" if s["excluded"] else ""))
    w("")
    w("DM 0 (all duty cycles and S/N): runs with a detection by ours on the filterbank (DM range from 0,")
    w("sifted) and by ours on the series at DM 0 (one DM trial, so no DM rules):")
    w("  " + "; ".join(f"{P * 1e3:g} ms: {s['dm0'][1]}/{s['dm0'][0]} and {s['dm0'][2]}/{s['dm0'][0]}"
                       for P, s in sorted(summary.items()) if s["dm0"][0]))
    print("\n".join(out))


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "dedisperse" and len(sys.argv) in (5, 7):
        extra = map(float, sys.argv[5:7]) if len(sys.argv) == 7 else ()
        dedisperse(sys.argv[2], float(sys.argv[3]), sys.argv[4], *extra)
    elif len(sys.argv) >= 6 and sys.argv[1] == "ideal":
        P, DM, duty, snr = map(float, sys.argv[2:6])
        ideal, factor = ideal_snr(P, DM, duty, snr, *map(float, sys.argv[6:]))
        print(f"{ideal:.3f} {factor:.4f}")
    elif len(sys.argv) == 3 and sys.argv[1] == "table":
        table(sys.argv[2])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
