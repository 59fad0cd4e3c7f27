import Foundation
import PulsarSearch
import XunxingProtocol

/// Searches a work unit: every series at every acceleration trial, as the payload's header asks.
/// Trials are numbered series-major (`series * accelerations + acceleration`), so a worker can
/// checkpoint after any trial and resume from the next.
public struct WorkUnitExecutor {
    public let header: WorkUnitHeader
    public let samples: [Float]
    public let planner: FFTPlanner

    /// Loads and checks the payload at `path`.
    public init(payload path: String, planner: FFTPlanner) throws {
        (header, samples) = try WorkUnitPayload.read(path: path)
        self.planner = planner
    }

    /// Search trials in the unit.
    public var trialCount: Int { header.dms.count * header.accelerations.count }

    /// Runs trials `start..<trialCount`, calling `afterTrial(index, candidatesSoFar)` after each
    /// (return false to stop early, for a pause or shutdown). Returns the candidates found by the
    /// trials run, strongest first within each series.
    @discardableResult
    public func run(
        from start: Int = 0, carrying earlier: [SeriesCandidate] = [],
        afterTrial: (Int, [SeriesCandidate]) -> Bool = { _, _ in true }
    ) -> (candidates: [SeriesCandidate], completed: Int) {
        let searcher = PeriodicitySearcher(planner: planner, parameters: header.search)
        let accelerations = header.accelerations
        var found = earlier
        var trial = start
        samples.withUnsafeBufferPointer { all in
            while trial < trialCount {
                let series = trial / accelerations.count
                let a = accelerations[trial % accelerations.count]
                let n = header.samplesPerSeries
                let slice = UnsafeBufferPointer(rebasing: all[(series * n)..<((series + 1) * n)])
                found += searcher.search(
                    samples: slice, tsamp: header.sampleTime, acceleration: a, trialsPerSeries: accelerations.count,
                    dm: header.dms[series], dmIndex: header.dmIndices[series])
                trial += 1
                if !afterTrial(trial, found) { break }
            }
        }
        return (found, trial)
    }

    /// Runs the whole unit and packages the result for upload.
    public func result(software: String) -> WorkUnitResult {
        let started = Date()
        let cpuStart = Self.cpuSeconds()
        let (candidates, completed) = run()
        return WorkUnitResult(
            workUnitID: header.workUnitID, candidates: candidates, cpuSeconds: Self.cpuSeconds() - cpuStart,
            elapsedSeconds: Date().timeIntervalSince(started), seriesSearched: completed, software: software)
    }

    /// CPU time of this process so far, seconds.
    public static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }
}
