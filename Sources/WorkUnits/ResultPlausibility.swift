import PulsarSearch
import XunxingProtocol

extension ResultComparison {
    /// Why a result, judged on its own (a trusted host's unit with no twin), cannot be a real
    /// search of its unit; nil when nothing is wrong with it.
    ///
    /// A real result searched every series, reports at most `maxCandidates` candidates, and each
    /// has a finite positive frequency, a finite sigma at or above the reporting threshold (less a
    /// rounding margin), a finite non-negative power and a harmonic count the search sums
    /// (1, 2, 4, 8, 16 or 32). Invented results that are also plausible are caught by the random
    /// spot checks of adaptive replication, not here.
    public static func implausibility(
        _ result: WorkUnitResult, seriesCount: Int, reportingThreshold: Double, maxCandidates: Int = 20_000
    ) -> String? {
        if result.seriesSearched != seriesCount {
            return "searched \(result.seriesSearched) series of \(seriesCount)"
        }
        if result.candidates.count > maxCandidates {
            return "\(result.candidates.count) candidates (at most \(maxCandidates))"
        }
        let harmonics: Set<Int> = [1, 2, 4, 8, 16, 32]
        for (i, c) in result.candidates.enumerated() {
            guard c.frequency.isFinite, c.frequency > 0 else { return "candidate \(i): frequency \(c.frequency)" }
            guard c.sigma.isFinite, c.sigma >= reportingThreshold - 0.5 else { return "candidate \(i): sigma \(c.sigma)" }
            guard c.power.isFinite, c.power >= 0 else { return "candidate \(i): power \(c.power)" }
            guard harmonics.contains(c.harmonics) else { return "candidate \(i): \(c.harmonics) harmonics" }
            guard c.acceleration.isFinite, c.dm.isFinite else { return "candidate \(i): acceleration or DM not finite" }
        }
        return nil
    }
}
