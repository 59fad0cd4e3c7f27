import CSearchKernels

/// A series folded once into sub-integrations x phase bins, as prepfold does: for a reference
/// frequency and acceleration, the sum, sample count and noise variance of every
/// (sub-integration, bin). Profiles at nearby frequencies and accelerations are made by rotating
/// each sub-integration by whole bins and adding (``FoldSearch``), without reading the series again.
///
/// Each sub-integration is measured against its own mean and variance, as prepfold's parts are:
/// red noise moves both from one sub-integration to the next, and a period commensurate with the
/// sampling gives bins unequal counts (4 or 5 samples a cycle, say) in the same pattern in every
/// sub-integration, so sums about the series' mean would carry each part's offset times that
/// pattern, which rotated rows do not cancel.
public struct FoldCube: Sendable {
    /// Reference frequency folded at, Hz (at the middle of the observation).
    public let frequency: Double
    /// Reference line-of-sight acceleration, m/s^2.
    public let acceleration: Double
    public private(set) var subintegrations: Int
    public private(set) var bins: Int
    /// Length of the series, s.
    public let duration: Double
    /// Middle of each sub-integration relative to the middle of the series, s.
    public private(set) var midTimes: [Double]
    /// Sum of (x - the sub-integration's mean) per (sub-integration, bin), sub-integration major.
    public var sums: [Double]
    /// Samples per (sub-integration, bin).
    public var counts: [Double]
    /// Noise variance of each sum: the sub-integration's sample variance times the count.
    public var variances: [Double]

    /// Folds `series` (sample time `tsamp`) at `frequency` and `acceleration` in one pass. The pulse
    /// phase of sample j is f tsamp j - (f a tsamp^2 / 2c) (j - n/2)^2 turns (an acceleration bends
    /// the phase about the middle, as the acceleration search's resampling does). With
    /// `decimation` d > 1 (a power of two), each run of d samples is added into one sample of
    /// d tsamp first, block by block in a buffer that stays in cache (the remainder of the series
    /// past a multiple of d is left out); the phases are then those of the summed samples.
    public init(
        _ series: UnsafeBufferPointer<Float>, tsamp: Double, frequency: Double, acceleration: Double = 0,
        bins: Int, subintegrations: Int, decimation: Int = 1
    ) {
        self.init(
            series, tsamp: tsamp, frequency: frequency, acceleration: acceleration, bins: bins,
            subintegrations: subintegrations, factor: decimation, summed: false)
    }

    /// Folds a series already summed `factor` samples at a time (a ``SeriesPyramid`` level) of the
    /// series sampled every `tsamp`: the same cube as folding that series with `decimation: factor`.
    public init(
        summed series: UnsafeBufferPointer<Float>, factor: Int, tsamp: Double, frequency: Double,
        acceleration: Double = 0, bins: Int, subintegrations: Int
    ) {
        self.init(
            series, tsamp: tsamp, frequency: frequency, acceleration: acceleration, bins: bins,
            subintegrations: subintegrations, factor: factor, summed: true)
    }

    private init(
        _ series: UnsafeBufferPointer<Float>, tsamp: Double, frequency: Double, acceleration: Double,
        bins: Int, subintegrations: Int, factor: Int, summed: Bool
    ) {
        precondition(bins >= 2 && subintegrations >= 1 && factor >= 1 && factor & (factor - 1) == 0)
        let tsamp = tsamp * Double(factor)
        let n = summed ? series.count : series.count / factor
        let nsub = max(1, min(subintegrations, n))
        self.frequency = frequency
        self.acceleration = acceleration
        self.subintegrations = nsub
        self.bins = bins
        self.duration = Double(n) * tsamp
        var sums = [Double](repeating: 0, count: nsub * bins)
        var counts = sums, variances = sums
        var midTimes = [Double](repeating: 0, count: nsub)
        let step = frequency * tsamp
        let quadratic = frequency * acceleration * tsamp * tsamp / (2 * AccelerationPlan.speedOfLight)
        let mid = Double(n) / 2
        // A summed sample's phase is that of the middle of its run of raw samples.
        let centre = Double(factor - 1) / Double(2 * factor)
        func phase(_ j: Int) -> Double {
            let t = Double(j) + centre
            return step * t - quadratic * (t - mid) * (t - mid)
        }
        // Within a block the quadratic phase is replaced by its chord, whose error is at most
        // |quadratic| block^2 / 4 turns: blocks are sized to keep it below 1e-4 of a bin.
        // Decimated blocks of at most 16384 samples (64 KB) are made in `coarse` and folded there.
        let chord = quadratic == 0 ? Int.max : max(64, Int((4e-4 / (abs(quadratic) * Double(bins))).squareRoot()))
        let decimating = factor > 1 && !summed
        let block = decimating ? min(chord, 16384) : chord
        var coarse = [Float](repeating: 0, count: decimating ? block : 0)
        var scratch = [Double](repeating: 0, count: 8 * bins)
        if let raw = series.baseAddress {
            coarse.withUnsafeMutableBufferPointer { coarse in
            scratch.withUnsafeMutableBufferPointer { scratch in
                sums.withUnsafeMutableBufferPointer { s in
                    counts.withUnsafeMutableBufferPointer { c in
                        for sub in 0..<nsub {
                            let lower = sub * n / nsub, upper = (sub + 1) * n / nsub
                            midTimes[sub] = (Double(lower + upper) / 2 - mid) * tsamp
                            let row = sub * bins
                            var squares = 0.0
                            var j = lower
                            while j < upper {
                                let end = upper - j > block ? j + block : upper
                                let p0 = phase(j)
                                let slope = quadratic == 0 ? step : (phase(end) - p0) / Double(end - j)
                                let x: UnsafePointer<Float>
                                if decimating {
                                    xx_decimate(raw + j * factor, (end - j) * factor, factor, coarse.baseAddress!)
                                    x = UnsafePointer(coarse.baseAddress!)
                                } else {
                                    x = raw + j
                                }
                                squares += xx_fold_linear(
                                    x, end - j, p0, slope, Int32(bins),
                                    s.baseAddress! + row, c.baseAddress! + row, scratch.baseAddress!)
                                j = end
                            }
                            let count = Double(upper - lower)
                            var total = 0.0
                            for b in row..<(row + bins) { total += s[b] }
                            let mean = count > 0 ? total / count : 0
                            let variance = count > 1 ? max(0, squares - total * mean) / (count - 1) : 0
                            for b in row..<(row + bins) {
                                s[b] -= mean * c[b]
                                variances[b] = variance * c[b]
                            }
                        }
                    }
                }
            }
            }
        }
        (self.sums, self.counts, self.variances, self.midTimes) = (sums, counts, variances, midTimes)
    }

    /// The cube with each `subintegrationFactor` neighbouring sub-integrations and each
    /// `binFactor` neighbouring bins added into one (the last group of sub-integrations takes any
    /// remainder): a cheaper cube for a coarse search, whose rotations by whole (wider) bins
    /// and longer sub-integrations blur a pulse by about one coarse bin.
    public func coarsened(subintegrationFactor: Int, binFactor: Int) -> FoldCube {
        precondition(subintegrationFactor >= 1 && binFactor >= 1 && bins % binFactor == 0)
        let nsub = max(1, subintegrations / subintegrationFactor), nb = bins / binFactor
        var result = self
        result.bins = nb
        result.subintegrations = nsub
        result.sums = [Double](repeating: 0, count: nsub * nb)
        result.counts = result.sums
        result.variances = result.sums
        result.midTimes = [Double](repeating: 0, count: nsub)
        for sub in 0..<subintegrations {
            let group = min(nsub - 1, sub / subintegrationFactor)
            for b in 0..<bins {
                let from = sub * bins + b, to = group * nb + b / binFactor
                result.sums[to] += sums[from]
                result.counts[to] += counts[from]
                result.variances[to] += variances[from]
            }
        }
        for group in 0..<nsub {
            let members = (group * subintegrationFactor)..<(group == nsub - 1 ? subintegrations : (group + 1) * subintegrationFactor)
            result.midTimes[group] = members.reduce(0.0) { $0 + midTimes[$1] } / Double(members.count)
        }
        return result
    }

    /// The profile made by adding every sub-integration rotated by `shifts[s]` bins (bin b of the
    /// result takes bin (b + shifts[s]) mod bins of sub-integration s).
    public func profile(shifts: [Int]) -> FoldedProfile.Sums {
        var result = FoldedProfile.Sums(
            sums: [Double](repeating: 0, count: bins), counts: [Double](repeating: 0, count: bins),
            variances: [Double](repeating: 0, count: bins))
        for sub in 0..<subintegrations {
            let d = ((shifts[sub] % bins) + bins) % bins
            let row = sub * bins
            for b in 0..<bins {
                let k = row + (b + d < bins ? b + d : b + d - bins)
                result.sums[b] += sums[k]
                result.counts[b] += counts[k]
                result.variances[b] += variances[k]
            }
        }
        return result
    }
}
