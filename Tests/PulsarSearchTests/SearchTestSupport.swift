import Foundation
import PulsarSearch

/// Helpers shared by the search tests.
enum SearchFixtures {
    /// One FFT planner for the whole test process (ESTIMATE: tests must not spend minutes planning).
    static let planner = FFTPlanner(rigor: .estimate)

    /// A configuration for small simulated observations.
    static func configuration(dmMax: Double? = nil, accelMax: Double = 0, threads: Int = 2) -> SearchConfiguration {
        var c = SearchConfiguration()
        c.dmMax = dmMax
        c.accelMax = accelMax
        c.threads = threads
        return c
    }

    /// Searches a simulated observation held in memory.
    static func search(_ observation: SimulatedObservation, _ configuration: SearchConfiguration) throws -> SearchReport {
        try SearchPipeline(configuration: configuration, planner: planner).search(Simulator.spectra(observation))
    }

    /// The candidate matching `period` (s) within `tolerance` (fractional), if any.
    static func match(_ report: SearchReport, period: Double, tolerance: Double) -> (rank: Int, candidate: Candidate)? {
        for (i, c) in report.candidates.enumerated() where abs(c.periodS - period) / period < tolerance {
            return (i, c)
        }
        return nil
    }

    /// A readable one-line summary of a report's top candidates, for failure messages.
    static func summary(_ report: SearchReport) -> String {
        report.candidates.prefix(5).map {
            String(format: "P=%.6f ms DM=%.1f sigma=%.1f h=%d a=%.1f snr=%.1f", $0.periodS * 1000, $0.dm, $0.sigma,
                $0.harmonics, $0.accelMS2, $0.snrFolded)
        }.joined(separator: "; ")
    }
}

