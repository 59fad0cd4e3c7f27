import Foundation

/// The DM search of a folded candidate, as prepfold does it: each subband (dedispersed at the
/// detection DM, aligned to the top of the band) is folded once at the candidate's frequency and
/// acceleration, and every trial DM within a span is tried by rotating each subband's profile by
/// the delay that DM error would leave in it (`dDM * delayPerDM[s]`) and adding; the trial whose
/// profile has the largest chi-square against a flat one wins. Subbands are folded into four
/// times the profile's bins, and trials are spaced so that the subbands at the two edges of the
/// band move by one of those bins against each other.
public enum DMFoldSearch {
    /// The DM found, its uncertainty, and the chi-square at every trial.
    public struct Result: Sendable, Equatable {
        public var dm: Double
        /// One-sigma uncertainty: the jackknife over subbands (the spread of the DMs found with
        /// each subband left out in turn).
        public var uncertainty: Double
        public var subbandsUsed: Int
        /// Trial DMs and the chi-square of the profile at each.
        public var curve: [(dm: Double, chiSquare: Double)]

        public static func == (a: Result, b: Result) -> Bool {
            a.dm == b.dm && a.uncertainty == b.uncertainty && a.subbandsUsed == b.subbandsUsed
                && a.curve.map(\.dm) == b.curve.map(\.dm) && a.curve.map(\.chiSquare) == b.curve.map(\.chiSquare)
        }
    }

    /// Searches DMs in `span` about `dm` (the DM the subbands were dedispersed at). Returns nil
    /// when fewer than two subbands are usable, the span holds fewer than three trials, or the
    /// best trial is an end of the span; the middle of the span when the chi-square is flat in it.
    public static func search(
        subbands block: DedispersedBlock, delayPerDM: [Double], dm: Double, frequency: Double,
        acceleration: Double = 0, span: ClosedRange<Double>, maxTrials: Int = 2001
    ) -> Result? {
        let usable = delayPerDM.indices.filter { delayPerDM[$0].isFinite }
        guard usable.count >= 2, frequency > 0 else { return nil }
        let period = 1 / frequency
        // Four times the profile's bins: the rotations are whole bins, so a trial's misalignment of
        // any subband stays under an eighth of a profile bin.
        let bins = 4 * Folder.binCount(period: period, tsamp: block.sampleTime)
        // One row of sums and variances per usable subband, each twice over for contiguous rotations.
        var rows: [[Double]] = [], variances: [[Double]] = []
        for s in usable {
            let cube = block.withSeries(s) {
                FoldCube($0, tsamp: block.sampleTime, frequency: frequency, acceleration: acceleration, bins: bins, subintegrations: 1)
            }
            rows.append(cube.sums + cube.sums)
            variances.append(cube.variances + cube.variances)
        }
        let delays = usable.map { delayPerDM[$0] }
        let lever = delays.max()! - delays.min()!
        guard lever > 0 else { return nil }
        var step = period / (Double(bins) * lever)
        let lower = span.lowerBound - dm, upper = span.upperBound - dm
        if (upper - lower) / step > Double(maxTrials - 1) { step = (upper - lower) / Double(maxTrials - 1) }
        let first = Int((lower / step).rounded(.up)), last = Int((upper / step).rounded(.down))
        guard last - first >= 2 else { return nil }
        let offsets = (first...last).map { Double($0) * step }
        // Each trial's chi-square with the subbands in `members` only.
        func curve(_ members: [Int]) -> [Double] {
            var total = [Double](repeating: 0, count: bins), variance = total
            return offsets.map { offset in
                total.withUnsafeMutableBufferPointer { total in
                    variance.withUnsafeMutableBufferPointer { variance in
                        total.update(repeating: 0)
                        variance.update(repeating: 0)
                        for r in members {
                            // A DM higher by `offset` than dedispersed at leaves subband r late by
                            // offset * delay s: read it that much later in phase.
                            let shift = Int((offset * delays[r] / period * Double(bins)).rounded())
                            let d = ((shift % bins) + bins) % bins
                            rows[r].withUnsafeBufferPointer { row in
                                variances[r].withUnsafeBufferPointer { rowVariance in
                                    for b in 0..<bins {
                                        total[b] += row[b + d]
                                        variance[b] += rowVariance[b + d]
                                    }
                                }
                            }
                        }
                        var chi = 0.0
                        for b in 0..<bins where variance[b] > 0 { chi += total[b] * total[b] / variance[b] }
                        return chi
                    }
                }
            }
        }
        let all = Array(delays.indices)
        let chi = curve(all)
        let curvePoints = zip(offsets, chi).map { (dm: dm + $0, chiSquare: $1) }
        // A chi-square that does not move with the DM by more than its noise (sqrt(2 (bins - 1))
        // for a flat profile, three times over) leaves the DM unresolved within the span: its
        // middle, with the standard deviation of a uniform spread over it.
        if chi.max()! - chi.min()! < 3 * (2 * Double(bins - 1)).squareRoot() {
            let middle = (offsets.first! + offsets.last!) / 2, width = offsets.last! - offsets.first!
            return Result(dm: dm + middle, uncertainty: width / 12.squareRoot(), subbandsUsed: usable.count, curve: curvePoints)
        }
        guard let found = peak(chi, offsets: offsets, bins: bins) else { return nil }
        // Jackknife over subbands: the spread of the DMs found with each subband left out.
        var leftOut: [Double] = []
        for r in all {
            if let d = peak(curve(all.filter { $0 != r }), offsets: offsets, bins: bins) { leftOut.append(d) }
        }
        var uncertainty = Double.infinity
        if leftOut.count >= 2 {
            let n = Double(leftOut.count)
            let mean = leftOut.reduce(0, +) / n
            uncertainty = ((n - 1) / n * leftOut.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }).squareRoot()
        }
        return Result(dm: dm + found, uncertainty: uncertainty, subbandsUsed: usable.count, curve: curvePoints)
    }

    /// The DM offset at the peak of a chi-square curve of profiles with `bins` bins, above the
    /// level of a flat profile in noise (bins - 1): the trials above half the peak's excess, each
    /// weighted by its excess over that half, in a window symmetric about the best trial. Nil when
    /// nothing stands above that level, or when the best trial is an end of the span.
    static func peak(_ chi: [Double], offsets: [Double], bins: Int) -> Double? {
        let best = chi.indices.max { chi[$0] < chi[$1] }!
        let baseline = Double(bins - 1)
        let excess = chi[best] - baseline
        guard excess > 0 else { return nil }
        var low = best, high = best
        while low > 0 && chi[low - 1] - baseline >= excess / 2 { low -= 1 }
        while high < chi.count - 1 && chi[high + 1] - baseline >= excess / 2 { high += 1 }
        guard best > 0, best < chi.count - 1 else { return nil }
        // Symmetric about the best trial (a DM error smears the pulse alike on either side of the
        // true DM), as wide as the nearer edge of the region allows: a peak cut by an end of the
        // span (DM 0, say) does not pull the centroid away from that end.
        let half = min(best - low, high - best)
        var weight = 0.0, moment = 0.0
        for t in (best - half)...(best + half) {
            let w = chi[t] - baseline - excess / 2
            weight += w
            moment += w * offsets[t]
        }
        return weight > 0 ? moment / weight : offsets[best]
    }
}
