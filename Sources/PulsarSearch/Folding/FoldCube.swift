import CSearchKernels

/// Mean and standard deviation of a series, measured once and shared by every fold of it.
public struct SeriesStatistics: Sendable, Equatable {
    public var mean: Double
    /// Sample standard deviation (n - 1), at least 1e-30.
    public var standardDeviation: Double

    public init(mean: Double, standardDeviation: Double) {
        self.mean = mean
        self.standardDeviation = standardDeviation
    }

    /// Two passes over `series` (sum, then squared deviations), in double precision.
    public init(_ series: UnsafeBufferPointer<Float>) {
        let n = series.count
        guard n > 0, let base = series.baseAddress else {
            self.init(mean: 0, standardDeviation: 1)
            return
        }
        let mean = xx_sum(base, n) / Double(n)
        let squares = xx_sum_squared_deviations(base, n, mean)
        self.init(mean: mean, standardDeviation: max(1e-30, (squares / Double(max(1, n - 1))).squareRoot()))
    }
}

/// A series folded once into sub-integrations x phase bins, as prepfold does: the sums and sample
/// counts of every (sub-integration, bin) for a reference frequency and acceleration. Profiles at
/// nearby frequencies and accelerations are made by rotating each sub-integration by whole bins
/// and adding (``FoldSearch``), without touching the series again.
public struct FoldCube: Sendable {
    /// Reference frequency folded at, Hz (at the middle of the observation).
    public let frequency: Double
    /// Reference line-of-sight acceleration, m/s^2.
    public let acceleration: Double
    public let subintegrations: Int
    public let bins: Int
    /// Length of the series, s.
    public let duration: Double
    /// Middle of each sub-integration relative to the middle of the series, s.
    public let midTimes: [Double]
    /// Sum of (x - mean) per (sub-integration, bin), sub-integration major.
    public var sums: [Double]
    /// Samples per (sub-integration, bin).
    public var counts: [Double]
    public let statistics: SeriesStatistics

    /// Folds `series` (sample time `tsamp`) at `frequency` and `acceleration` in one pass. The pulse
    /// phase of sample j is f tsamp j - (f a tsamp^2 / 2c) (j - n/2)^2 turns (an acceleration bends
    /// the phase about the middle, as the acceleration search's resampling does).
    public init(
        _ series: UnsafeBufferPointer<Float>, tsamp: Double, frequency: Double, acceleration: Double = 0,
        bins: Int, subintegrations: Int, statistics: SeriesStatistics? = nil
    ) {
        precondition(bins >= 2 && subintegrations >= 1)
        let n = series.count
        let stats = statistics ?? SeriesStatistics(series)
        let nsub = max(1, min(subintegrations, n))
        self.frequency = frequency
        self.acceleration = acceleration
        self.subintegrations = nsub
        self.bins = bins
        self.duration = Double(n) * tsamp
        self.statistics = stats
        var sums = [Double](repeating: 0, count: nsub * bins)
        var counts = [Double](repeating: 0, count: nsub * bins)
        var midTimes = [Double](repeating: 0, count: nsub)
        let step = frequency * tsamp
        let quadratic = frequency * acceleration * tsamp * tsamp / (2 * AccelerationPlan.speedOfLight)
        let mid = Double(n) / 2
        func phase(_ j: Int) -> Double {
            let d = Double(j) - mid
            return step * Double(j) - quadratic * d * d
        }
        // Within a block the quadratic phase is replaced by its chord, whose error is at most
        // |quadratic| block^2 / 4 turns: blocks are sized to keep it below 1e-4 of a bin.
        let block = quadratic == 0
            ? Int.max : max(64, Int((4e-4 / (abs(quadratic) * Double(bins))).squareRoot()))
        var scratch = [Double](repeating: 0, count: 8 * bins)
        guard let x = series.baseAddress else {
            (self.sums, self.counts, self.midTimes) = (sums, counts, midTimes)
            return
        }
        scratch.withUnsafeMutableBufferPointer { scratch in
            sums.withUnsafeMutableBufferPointer { s in
                counts.withUnsafeMutableBufferPointer { c in
                    for sub in 0..<nsub {
                        let lower = sub * n / nsub, upper = (sub + 1) * n / nsub
                        midTimes[sub] = (Double(lower + upper) / 2 - mid) * tsamp
                        var j = lower
                        while j < upper {
                            let end = upper - j > block ? j + block : upper
                            let p0 = phase(j)
                            let slope = quadratic == 0 ? step : (phase(end) - p0) / Double(end - j)
                            xx_fold_linear(
                                x + j, end - j, p0, slope, Int32(bins),
                                s.baseAddress! + sub * bins, c.baseAddress! + sub * bins, scratch.baseAddress!)
                            j = end
                        }
                    }
                    // Sums about the series mean.
                    for i in 0..<s.count { s[i] -= stats.mean * c[i] }
                }
            }
        }
        (self.sums, self.counts, self.midTimes) = (sums, counts, midTimes)
    }

    /// The profile made by adding every sub-integration rotated by `shifts[s]` bins (bin b of the
    /// result takes bin (b + shifts[s]) mod bins of sub-integration s).
    public func profile(shifts: [Int]) -> FoldedProfile.Sums {
        var total = [Double](repeating: 0, count: bins)
        var count = [Double](repeating: 0, count: bins)
        for sub in 0..<subintegrations {
            let d = ((shifts[sub] % bins) + bins) % bins
            let row = sub * bins
            for b in 0..<bins {
                let k = b + d < bins ? b + d : b + d - bins
                total[b] += sums[row + k]
                count[b] += counts[row + k]
            }
        }
        return FoldedProfile.Sums(sums: total, counts: count)
    }
}
