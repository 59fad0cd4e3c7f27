import CSearchKernels
import Foundation

/// The S/N of every FFA period trial of one series, at its best boxcar width.
///
/// The series (zero mean, unit variance, white) is resampled stage by stage to sampling times
/// `tau_k = tau_0 g^k`, `g = (binsMax + 1) / binsMin`, with `tau_0 = periodMin / binsMin`; at each stage
/// every fold of `b` bins, `binsMin <= b <= binsMax`, is FFA-transformed, and its rows cover the
/// periods from `b` to `b + 1` samples in steps of one bin of drift across the observation. So the
/// stages tile the period range, and a pulse is always folded into 240-260 bins (by default).
///
/// Each folded profile is matched with boxcars of every width: the S/N of a boxcar of `w` bins out
/// of `b` is the profile correlated with a zero-mean, unit-norm boxcar template,
/// `(max sum of w bins - w mean) sqrt(b / (w (b - w))) / sigma_bin`, where `sigma_bin` is the noise
/// of one bin (`sqrt(rows x variance of a resampled sample)`). On white noise each placement of each
/// boxcar is then a standard normal variate (with the excess noise of neighbouring resampled
/// samples, which share a split input sample, taken into account), and a trial's S/N is the best of
/// `bins` placements of each width.
public struct FFAPeriodogram: Sendable {
    /// Trial periods, seconds (ascending within each fold; stages follow each other).
    public var periods: [Double] = []
    /// Best boxcar S/N of each trial.
    public var snr: [Float] = []
    /// The best boxcar's width in bins, and the bins of the fold.
    public var widths: [UInt16] = []
    public var foldBins: [UInt16] = []
    /// Boxcar widths tried on each fold.
    public var widthTrials: Int = 0
    /// Independent boxcar placements per fold: `binsMin / w` for each width `w` (a boxcar overlaps
    /// its neighbours over `w` starts).
    public var placements: Double = 1

    /// Trials of the whole periodogram (periods x independent placements): what a trial-corrected
    /// significance counts. Measured on 100 white-noise series (``FFASearchTests``), the corrected
    /// probability of the strongest trial is close to uniform: its 5, 10, 25, 50 and 75 %
    /// quantiles are 0.04, 0.07, 0.23, 0.44 and 0.69.
    public var trials: Double { Double(periods.count) * placements }

    /// Duty cycle (boxcar width over period) of trial `i`.
    public func dutyCycle(_ i: Int) -> Double { Double(widths[i]) / Double(foldBins[i]) }

    /// The periodogram of `series` sampled every `sampleTime` seconds: zero mean and unit variance,
    /// as ``FFASearch/normalise(_:sampleTime:detrendSeconds:)`` leaves it. Empty when no period of
    /// `options` fits the series.
    public static func compute(
        _ series: UnsafeBufferPointer<Float>, sampleTime: Double, options: FFAOptions
    ) -> FFAPeriodogram {
        var result = FFAPeriodogram()
        let duration = Double(series.count) * sampleTime
        let periodMin = max(options.periodMin, sampleTime * Double(options.binsMin))
        let periodMax = min(options.periodMax, duration / options.minTurns)
        guard periodMax > periodMin, options.problem == nil else { return result }
        let widths = options.widths(bins: options.binsMin)
        result.widthTrials = widths.count
        let widths32 = widths.map { Int32($0) }
        result.placements = widths.reduce(0) { $0 + Double(options.binsMin) / Double($1) }
        let firstFactor = periodMin / (sampleTime * Double(options.binsMin))
        let growth = Double(options.binsMax + 1) / Double(options.binsMin)
        let stages = Int(ceil(log(periodMax / periodMin) / log(growth)))

        let capacity = Int(Double(series.count) / firstFactor) + 1
        var resampled = [Float](repeating: 0, count: capacity)
        var folds = [Float](repeating: 0, count: capacity)
        var scratch = [Float](repeating: 0, count: capacity)
        var prefix = [Float](repeating: 0, count: options.binsMax + (widths.last ?? 1) + BoxcarMatch.lanes + 1)
        let resampling = Resampling(series)
        resampled.withUnsafeMutableBufferPointer { resampled in
          folds.withUnsafeMutableBufferPointer { folds in
            scratch.withUnsafeMutableBufferPointer { scratch in
              prefix.withUnsafeMutableBufferPointer { prefix in
                for stage in 0..<max(0, stages) {
                    let factor = firstFactor * pow(growth, Double(stage))
                    let tau = factor * sampleTime
                    let (n, variance) = resampling.downsample(by: factor, into: resampled)
                    let longest = periodMax / tau
                    // Neighbouring resampled samples share the input sample split between them: w
                    // of them in a row hold (w - 1) factor + variance of noise, not w x variance.
                    let widthNoise = widths.map { w in
                        Float(((Double(w - 1) * max(1, factor) + variance) / (Double(w) * variance)).squareRoot())
                    }
                    for bins in options.binsMin...options.binsMax where Double(bins) <= longest {
                        let rows = n / bins
                        guard rows >= 2 else { break }
                        // Row s folds at bins + s/(rows-1) samples: rows up to one bin short of the
                        // next fold's first, and none beyond the longest period.
                        let reach = Int(((longest - Double(bins)) * Double(rows - 1)).rounded(.down))
                        let evaluated = min(rows - 1, reach + 1)
                        guard evaluated > 0 else { continue }
                        FFATransform.transform(
                            UnsafePointer(resampled.baseAddress!), rows: rows, bins: bins,
                            into: folds.baseAddress!, scratch: scratch.baseAddress!)
                        let noise = Float((Double(rows) * variance).squareRoot())
                        for s in 0..<evaluated {
                            let (snr, width) = BoxcarMatch.best(
                                UnsafePointer(folds.baseAddress! + s * bins), bins: bins, widths: widths32,
                                noise: noise, widthNoise: widthNoise, prefix: prefix.baseAddress!)
                            result.periods.append((Double(bins) + Double(s) / Double(rows - 1)) * tau)
                            result.snr.append(snr)
                            result.widths.append(UInt16(width))
                            result.foldBins.append(UInt16(bins))
                        }
                    }
                }
              }
            }
          }
        }
        return result
    }
}

/// Boxcar matched filtering of one folded profile.
enum BoxcarMatch {
    /// Spare prefix sums beyond `bins + max(widths)`: the placements are compared 8 at a time, and
    /// the few past the last bin repeat the first ones (the prefix sums go on around the turn).
    static let lanes = 8

    /// The best S/N over `widths` of the `bins`-bin profile at `profile`, with its width; each
    /// width's S/N is divided by `widthNoise[i]` when given (the excess noise of correlated bins).
    /// `prefix` holds at least `bins + max(widths) + lanes` floats of working space.
    @inline(__always)
    static func best(
        _ profile: UnsafePointer<Float>, bins: Int, widths: [Int32], noise: Float, widthNoise: [Float]? = nil,
        prefix: UnsafeMutablePointer<Float>
    ) -> (snr: Float, width: Int) {
        let widest = Int(widths.last ?? 1)
        let placements = (bins + lanes - 1) / lanes * lanes
        // Circular prefix sums: prefix[j] = sum of profile[0..<j], continued around the turn.
        var sum: Float = 0
        prefix[0] = 0
        for j in 0..<bins { sum += profile[j]; prefix[j + 1] = sum }
        let total = sum
        for j in 0..<(placements - bins + widest) { sum += profile[j % bins]; prefix[bins + j + 1] = sum }
        var best: Float = -.infinity, bestWidth = 1
        withUnsafeTemporaryAllocation(of: Float.self, capacity: widths.count) { maxima in
            widths.withUnsafeBufferPointer { w32 in
                // widths are Int32 for the kernel (see ``FFAPeriodogram/compute``).
                xx_boxcar_maxima(prefix, placements, w32.baseAddress!, widths.count, maxima.baseAddress!)
            }
            let b = Float(bins)
            for (i, w) in widths.enumerated() where Int(w) < bins {
                let fw = Float(w)
                let snr = (maxima[i] - fw * total / b) * (b / (fw * (b - fw))).squareRoot() / (noise * (widthNoise?[i] ?? 1))
                if snr > best { best = snr; bestWidth = Int(w) }
            }
        }
        return (best, bestWidth)
    }
}

/// Resampling of a series to a coarser, not necessarily whole, sampling factor.
struct Resampling {
    /// Running sums of the series: `sums[i]` is the sum of its first `i` samples (in double
    /// precision, so that a window's sum, a difference of two, keeps the precision of its samples).
    private let sums: [Double]
    private let series: UnsafeBufferPointer<Float>

    init(_ series: UnsafeBufferPointer<Float>) {
        self.series = series
        var sums = [Double](repeating: 0, count: series.count + 1)
        var total = 0.0
        for i in 0..<series.count { total += Double(series[i]); sums[i + 1] = total }
        self.sums = sums
    }

    /// The integral of the series (constant over each sample) from 0 to `x` samples.
    @inline(__always)
    private func integral(_ x: Double, _ sums: UnsafePointer<Double>) -> Double {
        let i = min(series.count - 1, Int(x))
        return sums[i] + (x - Double(i)) * Double(series[i])
    }

    /// Sums the series over consecutive windows of `factor` samples (fractions of a sample at the
    /// window edges weighted by their overlap) into `output`. Returns the samples written and their
    /// mean variance for unit-variance white input (the mean sum of squared weights).
    func downsample(by factor: Double, into output: UnsafeMutableBufferPointer<Float>) -> (count: Int, variance: Double) {
        let total = series.count
        if factor <= 1 + 1e-9 {
            let n = min(total, output.count)
            output.baseAddress!.update(from: series.baseAddress!, count: n)
            return (n, 1)
        }
        let n = min(output.count, Int(Double(total) / factor))
        var squares = 0.0
        sums.withUnsafeBufferPointer { sums in
            let s = sums.baseAddress!
            var previous = 0.0
            for k in 0..<n {
                let start = Double(k) * factor, end = min(Double(total), Double(k + 1) * factor)
                let next = integral(end, s)
                output[k] = Float(next - previous)
                previous = next
                let first = Int(start), last = Int(end)
                if first == last || (last == first + 1 && end == Double(last)) {
                    squares += (end - start) * (end - start)
                } else {
                    let head = Double(first + 1) - start, tail = end - Double(last)
                    squares += head * head + Double(last - first - 1) + tail * tail
                }
            }
        }
        return (n, n > 0 ? squares / Double(n) : 1)
    }

    /// ``downsample(by:into:)`` of `series` without keeping its running sums.
    static func downsample(
        _ series: UnsafeBufferPointer<Float>, by factor: Double, into output: UnsafeMutableBufferPointer<Float>
    ) -> (count: Int, variance: Double) {
        Resampling(series).downsample(by: factor, into: output)
    }
}
