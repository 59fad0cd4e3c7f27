import Foundation
import PulsarSearch


/// Measures this machine's speed relative to the project's reference core: the best of a few
/// searches of a noise series, against what the cost model says the reference core needs.
public enum SpeedBenchmark {
    /// Samples in the benchmark series (a few milliseconds of work on the reference core).
    public static let samples = 1 << 18

    /// Reference-core seconds / measured seconds (1 = as fast as the reference core).
    public static func measure(planner: FFTPlanner, repeats: Int = 5) -> Double {
        var generator = SeededGenerator(seed: 42)
        let series = (0..<samples).map { _ in Float(generator.gaussian()) }
        var parameters = SpectralSearchParameters()
        parameters.sigmaThreshold = 4
        let searcher = PeriodicitySearcher(planner: planner, parameters: parameters)
        var best = Double.infinity
        series.withUnsafeBufferPointer { buffer in
            _ = searcher.search(samples: buffer, tsamp: 1e-3)  // plans and warms the caches
            for _ in 0..<max(1, repeats) {
                let start = CPUClock.processSeconds()
                _ = searcher.search(samples: buffer, tsamp: 1e-3)
                best = min(best, CPUClock.processSeconds() - start)
            }
        }
        let reference = CostModel.reference.searchCost(samples: samples, accelerationTrials: 1)
        guard best.isFinite, best > 0 else { return 1 }
        return min(100, max(0.01, reference / best))
    }
}
