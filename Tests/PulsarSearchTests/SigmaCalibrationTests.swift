import XunxingSupport
import Foundation
import PulsarSearch
import Testing

/// The reported sigma of a series' strongest candidate is a trials-corrected significance: in pure
/// noise, the fraction of series whose top candidate exceeds sigma s must be the Gaussian tail
/// probability of s. Measured on many short seeded white-noise series, whitened and searched
/// exactly as the pipeline does.
@Suite("Sigma calibration on noise-only series")
struct SigmaCalibrationTests {
    /// Top-candidate sigma (0 when nothing is reported) of `count` white-noise series of `samples`.
    static func topSigmas(count: Int, samples: Int, harmonics: Int, seed: UInt64) -> [Double] {
        var parameters = SpectralSearchParameters()
        parameters.maxHarmonics = harmonics
        // Report everything down to 0.1 sigma; detect on whole bins well below that (about ten
        // noise crossings per stage), so the strongest peak of each series is measured.
        parameters.sigmaThreshold = 0.1
        parameters.detectionMargin = 4
        parameters.minFrequency = 0
        parameters.maxCandidates = 16
        let searcher = PeriodicitySearcher(planner: SearchFixtures.planner, parameters: parameters)
        var series = [Float](repeating: 0, count: samples)
        var tops: [Double] = []
        tops.reserveCapacity(count)
        for i in 0..<count {
            var rng = SeededGenerator(seed: seed &+ UInt64(i))
            for j in 0..<samples { series[j] = Float(rng.gaussian()) }
            let found = series.withUnsafeBufferPointer { searcher.search(samples: $0, tsamp: 1e-3) }
            tops.append(found.map(\.sigma).max() ?? 0)
        }
        return tops
    }

    @Test("P(top sigma > s) is within a factor 2 of the Gaussian tail for s = 1, 2, 3", arguments: [1, 4, 16])
    func calibration(harmonics: Int) async {
        // 24,000 series: the Gaussian tail at 3 sigma expects 32 of them (a Poisson error of 18%).
        let count = 24_000
        // Two threads, half the series each (the seeds do not change): the three cases together
        // are the longest test of their run, and a case left running alone at its end would
        // otherwise keep one core idle.
        async let first = onThread { Self.topSigmas(count: count / 2, samples: 1 << 14, harmonics: harmonics, seed: 5555) }
        async let second = onThread {
            Self.topSigmas(count: count - count / 2, samples: 1 << 14, harmonics: harmonics, seed: 5555 &+ UInt64(count / 2))
        }
        let tops = await first + second
        var table = "harmonics \(harmonics), \(count) series of 16384 samples\n  s   measured  Gaussian  ratio\n"
        for s in [1.0, 2.0, 3.0] {
            let measured = Double(tops.filter { $0 > s }.count) / Double(count)
            let expected = 0.5 * erfc(s / 2.0.squareRoot())
            table += String(format: "  %.0f   %.5f   %.5f   %.2f\n", s, measured, expected, measured / expected)
            #expect(measured < 2 * expected && measured > expected / 2,
                    "sigma \(s): \(measured) of series exceed it, the Gaussian tail is \(expected)")
        }
        print(table)
    }
}
