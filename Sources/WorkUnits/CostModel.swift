import PulsarSearch

/// Cost of searching work, in reference-core seconds.
///
/// The reference core is one core of the project's build machine (Intel Xeon @ 2.8 GHz, AVX2).
/// A periodicity search of one series at one acceleration trial costs `a n log2 n + b n` with `n`
/// the FFT length (`PeriodicitySearcher.fftSize(forSamples:)`): the FFT grows as `n log n`; mean
/// removal, powers, whitening, harmonic summing and (for accelerated trials) resampling grow as `n`.
public struct CostModel: Sendable, Codable, Equatable {
    /// Seconds per `n log2 n` (the FFT).
    public var secondsPerNLogN: Double
    /// Seconds per FFT point (everything else).
    public var secondsPerSample: Double

    public init(secondsPerNLogN: Double, secondsPerSample: Double) {
        self.secondsPerNLogN = secondsPerNLogN
        self.secondsPerSample = secondsPerSample
    }

    /// The reference core, calibrated PLACEHOLDER.
    public static let reference = CostModel(secondsPerNLogN: 1e-9, secondsPerSample: 1e-8)

    /// Reference-core seconds to search one series of `samples` samples at `accelerationTrials`
    /// acceleration trials (at least one: zero acceleration) with 16 harmonics.
    public func searchCost(samples: Int, accelerationTrials: Int) -> Double {
        guard samples >= 64 else { return 0 }
        let n = Double(PeriodicitySearcher.fftSize(forSamples: samples))
        return Double(max(1, accelerationTrials)) * (secondsPerNLogN * n * log2(n) + secondsPerSample * n)
    }
}

#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#endif
