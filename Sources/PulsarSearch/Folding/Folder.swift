import Foundation

/// A pulse profile from folding a time series at one period.
public struct FoldedProfile: Sendable, Codable, Equatable {
    /// Frequency folded at, Hz (at the middle of the observation).
    public var frequency: Double
    /// Acceleration folded with, m/s^2.
    public var acceleration: Double
    /// Mean series value per phase bin, in units of the series' standard deviation.
    public var profile: [Float]
    /// Reduced chi-square of the profile against a flat one (about 1 for noise).
    public var reducedChiSquare: Double
    /// Signal-to-noise of the best boxcar on the profile, from its off-pulse noise.
    public var snr: Double
    /// Duty cycle of that boxcar (fraction of a period).
    public var width: Double
}

/// Folds time series at candidate periods and refines the period by maximising the profile's
/// reduced chi-square, as prepfold does for its period search.
public enum Folder {
    /// Phase bins used for a period of `period` seconds sampled every `tsamp`.
    public static func binCount(period: Double, tsamp: Double, maximum: Int = 64) -> Int {
        max(8, min(maximum, Int(period / tsamp)))
    }

    /// Folds `series` at `frequency` Hz (mid-observation) and `acceleration` into `bins` phase bins.
    public static func fold(
        _ series: UnsafeBufferPointer<Float>, tsamp: Double, frequency: Double, acceleration: Double = 0, bins: Int
    ) -> FoldedProfile {
        let n = series.count
        var mean = 0.0, sumSq = 0.0
        for x in series { mean += Double(x) }
        mean /= Double(max(1, n))
        for x in series { let d = Double(x) - mean; sumSq += d * d }
        let sigma = max(1e-30, (sumSq / Double(max(1, n - 1))).squareRoot())
        var sums = [Double](repeating: 0, count: bins)
        var counts = [Int](repeating: 0, count: bins)
        let phaseStep = frequency * tsamp
        let quadratic = frequency * acceleration * tsamp * tsamp / (2 * AccelerationPlan.speedOfLight)
        let mid = Double(n) / 2
        let b = Double(bins)
        sums.withUnsafeMutableBufferPointer { s in
            counts.withUnsafeMutableBufferPointer { c in
                for j in 0..<n {
                    let dj = Double(j) - mid
                    var phase = phaseStep * Double(j) - quadratic * dj * dj
                    phase -= phase.rounded(.down)
                    let bin = min(bins - 1, Int(phase * b))
                    s[bin] += Double(series[j]) - mean
                    c[bin] += 1
                }
            }
        }
        var chi = 0.0
        var z = [Double](repeating: 0, count: bins)
        var profile = [Float](repeating: 0, count: bins)
        for i in 0..<bins where counts[i] > 0 {
            z[i] = sums[i] / (sigma * Double(counts[i]).squareRoot())
            chi += z[i] * z[i]
            profile[i] = Float(sums[i] / Double(counts[i]) / sigma)
        }
        let (snr, width) = boxcarSNR(z)
        return FoldedProfile(
            frequency: frequency, acceleration: acceleration, profile: profile,
            reducedChiSquare: chi / Double(max(1, bins - 1)), snr: snr, width: width)
    }

    /// Best boxcar S/N on a profile of unit-variance bins, measured against the off-pulse bins.
    static func boxcarSNR(_ z: [Double]) -> (Double, Double) {
        let bins = z.count
        var best = -Double.infinity
        var bestStart = 0, bestWidth = 1
        var w = 1
        while w <= bins / 2 {
            for start in 0..<bins {
                var s = 0.0
                for k in 0..<w { s += z[(start + k) % bins] }
                let v = s / Double(w).squareRoot()
                if v > best { best = v; bestStart = start; bestWidth = w }
            }
            w *= 2
        }
        var off: [Double] = []
        for i in 0..<bins {
            let inside = (i - bestStart + bins) % bins < bestWidth
            if !inside { off.append(z[i]) }
        }
        guard off.count >= 4 else { return (max(0, best), Double(bestWidth) / Double(bins)) }
        let offMean = off.reduce(0, +) / Double(off.count)
        let offVar = off.reduce(0) { $0 + ($1 - offMean) * ($1 - offMean) } / Double(off.count - 1)
        let offStd = max(1e-12, offVar.squareRoot())
        var on = 0.0
        for k in 0..<bestWidth { on += z[(bestStart + k) % bins] - offMean }
        return (on / (offStd * Double(bestWidth).squareRoot()), Double(bestWidth) / Double(bins))
    }

    /// Folds at frequencies within one Fourier bin (1/T) of `frequency` and returns the profile with
    /// the highest reduced chi-square: a coarse pass in 0.1-bin steps, then 0.01-bin steps.
    public static func optimise(
        _ series: UnsafeBufferPointer<Float>, tsamp: Double, frequency: Double, acceleration: Double = 0,
        maxBins: Int = 64
    ) -> FoldedProfile {
        let duration = Double(series.count) * tsamp
        let bins = binCount(period: 1 / frequency, tsamp: tsamp, maximum: maxBins)
        var best = fold(series, tsamp: tsamp, frequency: frequency, acceleration: acceleration, bins: bins)
        for (span, step) in [(1.0, 0.1), (0.1, 0.01)] {
            let centre = best.frequency
            let steps = Int((span / step).rounded())
            for i in -steps...steps where i != 0 {
                let f = centre + Double(i) * step / duration
                guard f > 0 else { continue }
                let p = fold(series, tsamp: tsamp, frequency: f, acceleration: acceleration, bins: bins)
                if p.reducedChiSquare > best.reducedChiSquare { best = p }
            }
        }
        return best
    }
}
