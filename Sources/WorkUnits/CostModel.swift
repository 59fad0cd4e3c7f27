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
/// Fourier-interpolated measurement of the peaks (at most `2 x maxCandidates` of them, each summed
/// over up to 16 harmonics) is about constant per search.
public struct CostModel: Sendable, Codable, Equatable {
    /// Seconds per `n log2 n` (the FFT).
    public var secondsPerNLogN: Double
    /// Seconds per FFT point (powers, whitening, harmonic sums).
    public var secondsPerSample: Double
    /// Seconds per search regardless of length (measuring the peaks).
    public var secondsPerSearch: Double

    public init(secondsPerNLogN: Double, secondsPerSample: Double, secondsPerSearch: Double = 0) {
        self.secondsPerNLogN = secondsPerNLogN
        self.secondsPerSample = secondsPerSample
        self.secondsPerSearch = secondsPerSearch
    }

    /// The reference core (Xeon @ 2.8 GHz), calibrated 2026-11-29 on this project's build machine:
    /// release build, `xunxing bench --fft-rigor estimate --harmonics 16 --repeats 9` at 2^16, 2^18,
    /// 2^20 and 2^22 points, from its per-stage times: a = FFT time at 2^22 / (n log2 n) (43 ms;
    /// smaller FFTs fit in cache and run up to 2x cheaper per n log2 n, so small series are
    /// overestimated a little); b = whitening + harmonic sum per point (20 ms at 2^22, 3.5-5.2 ns
    /// per point at all sizes); c = peak measurement (1.5-2.8 ms). The model gives 2.8, 5.5, 16.9
    /// and 65.5 ms at 2^16, 2^18, 2^20, 2^22 against 2.1-3.4, 5.2-6.4, 12-15 and 58-75 ms measured
    /// (whole searches, release bench and, for noise searched at sigma 4 as workers do, the opt-in
    /// `CostCalibrationTests`); the shared machine's timings scatter by +-20%. An acceleration
    /// trial costs the same as the zero trial within that scatter.
    public static let reference = CostModel(secondsPerNLogN: 4.7e-10, secondsPerSample: 4.8e-9, secondsPerSearch: 2.0e-3)

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
