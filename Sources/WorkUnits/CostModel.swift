#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#endif
import PulsarSearch

/// Cost of searching work, in reference-core seconds.
///
/// The reference core is one core of the project's build machine (Intel Xeon @ 2.8 GHz, AVX2).
/// A periodicity search of one series at one acceleration trial costs `a n log2 n + b n + c` with
/// `n` the FFT length (`PeriodicitySearcher.fftSize(forSamples:)`): the FFT grows as `n log n`;
/// powers, whitening and harmonic summing (and resampling, for accelerated trials) grow as `n`;
/// `c` is the fixed part of a search. Each peak it measures costs `d` more: Fourier interpolation
/// over up to 16 harmonics (~50 us a peak) is, for short series full of signals or interference,
/// as much as the FFT. How many peaks a search measures is only known from its result, so a
/// unit's planned cost (``searchCost(samples:accelerationTrials:)``, for balancing units and
/// filling work requests) leaves them out and its credit adds ``peakCost(_:)`` for the peaks its
/// validated results measured.
public struct CostModel: Sendable, Codable, Equatable {
    /// Seconds per `n log2 n` (the FFT).
    public var secondsPerNLogN: Double
    /// Seconds per FFT point (powers, whitening, harmonic sums).
    public var secondsPerSample: Double
    /// Seconds per search regardless of length.
    public var secondsPerSearch: Double
    /// Seconds per peak measured by Fourier interpolation.
    public var secondsPerPeak: Double

    public init(secondsPerNLogN: Double, secondsPerSample: Double, secondsPerSearch: Double = 0, secondsPerPeak: Double = 0) {
        self.secondsPerNLogN = secondsPerNLogN
        self.secondsPerSample = secondsPerSample
        self.secondsPerSearch = secondsPerSearch
        self.secondsPerPeak = secondsPerPeak
    }

    /// The reference core (Xeon @ 2.8 GHz), fitted 2026-12-06 on this project's build machine to
    /// whole work units as workers run them (`scripts/bench-cost.sh`: `xunxing bench units`,
    /// release build, quick FFTW plans, least CPU time of 3 runs), by non-negative least squares
    /// on the relative error over 90 units of the tiny preset measured in two runs: tutorial.fil,
    /// parkes_8bit_1.fil and frb121102.fil (762 to 187,520 samples a series, 0 to 35,000 peaks a
    /// unit) and simulated noise (2^15 to 2^22 samples, 1 to 5 acceleration trials). The fixed
    /// part came out 0. Measured / model: median 1.00 in one run and 1.10 in the other (the
    /// shared machine's speed drifts), 69 of the 90 within 0.8-1.2, all within 0.69-1.41 (the
    /// shortest series of frb121102.fil cost most over the model). Measured FFTW plans (a settled
    /// host) run the FFT up to 2x faster than these quick ones.
    public static let reference = CostModel(
        secondsPerNLogN: 4.92e-10, secondsPerSample: 6.11e-9, secondsPerSearch: 0, secondsPerPeak: 4.88e-5)

    /// Reference-core seconds of the FFA search of one series of `samples` samples every
    /// `sampleTime` s: about 0.09 s for 2^20 samples over periods 0.5-20 s (44 resampling stages,
    /// `scripts/bench-ffa.sh`), proportional to the samples and to the stages the period range needs.
    /// Measured on this project's build machine, not fitted like the Fourier search's.
    public func ffaCost(samples: Int, sampleTime: Double, options: FFAOptions) -> Double {
        let duration = Double(samples) * sampleTime
        let low = max(options.periodMin, sampleTime * Double(options.binsMin))
        let high = min(options.periodMax, duration / options.minTurns)
        guard high > low else { return 0 }
        let stages = log(high / low) / log(Double(options.binsMax + 1) / Double(options.binsMin))
        return 2.0e-9 * Double(samples) * stages
    }

    /// Reference-core seconds of the single-pulse search of one series of `samples` samples:
    /// 16.5 ms for 2^18 (`scripts/bench-single-pulse.sh`, boxcars to 0.1 s).
    public func singlePulseCost(samples: Int) -> Double { 6.3e-8 * Double(samples) }

    /// Reference-core seconds to measure `count` peaks.
    public func peakCost(_ count: Int) -> Double { secondsPerPeak * Double(max(0, count)) }

    /// Reference-core seconds to search one series of `samples` samples at `accelerationTrials`
    /// acceleration trials (at least one: zero acceleration) with 16 harmonics. Series shorter than
    /// 64 samples are not searched and cost nothing.
    public func searchCost(samples: Int, accelerationTrials: Int) -> Double {
        guard samples >= 64 else { return 0 }
        let n = Double(PeriodicitySearcher.fftSize(forSamples: samples))
        let perTrial = secondsPerNLogN * n * log2(n) + secondsPerSample * n + secondsPerSearch
        return Double(max(1, accelerationTrials)) * perTrial
    }
}
