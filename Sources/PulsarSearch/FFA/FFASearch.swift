import Foundation

/// The FFA search of one dedispersed series for long periods and narrow pulses, where the Fourier
/// search's harmonic sum loses to folding (riptide and PRESTO's ffa.py do the same): the series is
/// detrended with a running median, normalised by its robust sigma, folded at every trial period of
/// ``FFAPeriodogram``, and the strongest distinct peaks become ``SeriesCandidate``s that go through
/// the same sifting and folding as the Fourier search's.
///
/// Significance: on white noise each placement of a boxcar in a fold has a standard normal S/N, so a
/// peak's sigma is its one-trial tail probability corrected for every period trial times the
/// independent placements of every width (``FFAPeriodogram/trials``), which on white noise gives
/// a nearly uniform probability for the strongest trial. A detection's
/// `harmonics` is the number of harmonics a pulse of its duty cycle carries, `1 / (2 duty)`
/// rounded down to a power of two and capped at 32, like the harmonic sum's stages: what the sifter
/// uses to recognise its sub-harmonic folds.
public struct FFASearch: Sendable {
    public var options: FFAOptions
    /// Peaks below this sigma are not reported.
    public var sigmaThreshold: Double

    public init(options: FFAOptions = FFAOptions(), sigmaThreshold: Double = 5) {
        self.options = options
        self.sigmaThreshold = sigmaThreshold
    }

    /// Detections in `series` (sampled every `sampleTime` s, at `dm`, trial `dmIndex`), strongest first.
    public func search(
        _ series: UnsafeBufferPointer<Float>, sampleTime: Double, dm: Double, dmIndex: Int
    ) -> [SeriesCandidate] {
        let periodogram = self.periodogram(series, sampleTime: sampleTime)
        let duration = Double(series.count) * sampleTime
        return peaks(of: periodogram, duration: duration).map { i in
            let duty = periodogram.dutyCycle(i)
            let snr = Double(periodogram.snr[i])
            var candidate = SeriesCandidate(
                frequency: 1 / periodogram.periods[i], harmonics: Self.harmonics(dutyCycle: duty),
                power: snr, sigma: Self.sigma(snr: snr, trials: periodogram.trials), acceleration: 0, dm: dm,
                dmIndex: dmIndex)
            candidate.dutyCycle = duty
            return candidate
        }
    }

    /// The harmonics a pulse of `dutyCycle` carries, `1 / (2 duty)`, as a power of two from 1 to 32.
    public static func harmonics(dutyCycle: Double) -> Int {
        var h = 1
        while h < 32, Double(2 * h) <= 1 / (2 * dutyCycle) { h *= 2 }
        return h
    }

    /// The periodogram of a copy of `series` normalised as the search normalises it
    /// (``normalise(_:sampleTime:detrendSeconds:)``).
    public func periodogram(_ series: UnsafeBufferPointer<Float>, sampleTime: Double) -> FFAPeriodogram {
        var work = Array(series)
        return work.withUnsafeMutableBufferPointer { work in
            Self.normalise(work, sampleTime: sampleTime, detrendSeconds: options.detrendSeconds)
            return FFAPeriodogram.compute(UnsafeBufferPointer(work), sampleTime: sampleTime, options: options)
        }
    }

    /// The trial-corrected Gaussian sigma of the best S/N of `trials` standard normal trials.
    public static func sigma(snr: Double, trials: Double) -> Double {
        Significance.gaussianSigma(
            logProbability: Significance.trialCorrected(logProbability: Significance.logGaussianTail(snr), trials: trials))
    }

    /// The one-trial S/N that reaches `sigma` among `trials` trials.
    public static func snrThreshold(sigma: Double, trials: Double) -> Double {
        var lo = 0.0, hi = 60.0
        for _ in 0..<60 {
            let mid = 0.5 * (lo + hi)
            if Self.sigma(snr: mid, trials: trials) >= sigma { hi = mid } else { lo = mid }
        }
        return hi
    }

    /// Indices of the strongest trials at or above the threshold, at most one within a Fourier bin
    /// (1/T) of another, strongest first, at most `maxPeaksPerSeries`.
    func peaks(of periodogram: FFAPeriodogram, duration: Double) -> [Int] {
        guard !periodogram.periods.isEmpty else { return [] }
        let floor = Float(Self.snrThreshold(sigma: sigmaThreshold, trials: periodogram.trials))
        let above = periodogram.snr.indices.filter { periodogram.snr[$0] >= floor }
            .sorted { periodogram.snr[$0] > periodogram.snr[$1] }
        var kept: [Int] = []
        var keptFrequencies: [Double] = []
        for i in above {
            let f = 1 / periodogram.periods[i]
            if keptFrequencies.contains(where: { abs($0 - f) * duration < 1 }) { continue }
            kept.append(i)
            keptFrequencies.append(f)
            if kept.count >= options.maxPeaksPerSeries { break }
        }
        return kept
    }

    /// Subtracts the running median over `detrendSeconds` and divides by the robust sigma (1.4826
    /// MAD) of the result, in place: zero median, unit variance for Gaussian noise, and neither moved
    /// much by the pulses themselves.
    public static func normalise(_ series: UnsafeMutableBufferPointer<Float>, sampleTime: Double, detrendSeconds: Double) {
        guard series.count > 1 else { return }
        RunningMedian.subtract(from: series, window: max(3, Int(detrendSeconds / sampleTime)))
        // The sigma from a stride of the series: at most 2^16 values are enough.
        let stride = max(1, series.count / 65_536)
        let sample = Swift.stride(from: 0, to: series.count, by: stride).map { series[$0] }
        let centre = Robust.median(sample)
        let sigma = Robust.sigma(sample, centre: centre)
        let scale: Float = sigma > 0 ? 1 / sigma : 1
        for i in series.indices { series[i] = (series[i] - centre) * scale }
    }
}
