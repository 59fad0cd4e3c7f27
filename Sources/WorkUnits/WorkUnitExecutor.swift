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
    public var trialCount: Int { header.trialCount }

    /// Runs trials `start..<trialCount`, calling `afterTrial` with each trial's outcome (return
    /// false to stop early, for a pause or shutdown). Returns the index of the first trial not run.
    @discardableResult
    public func run(from start: Int = 0, afterTrial: (TrialOutcome) -> Bool) -> Int {
        let searcher = PeriodicitySearcher(planner: planner, parameters: header.search)
        var trial = start
        samples.withUnsafeBufferPointer { all in
            while trial < trialCount {
                let outcome = Self.search(trial: trial, header: header, samples: all, searcher: searcher)
                trial += 1
                if !afterTrial(outcome) { break }
            }
        }
        return trial
    }

    /// Searches trial `trial` of a unit: the Fourier search of its series at its acceleration and,
    /// at the series' first trial (acceleration 0), the FFA and single-pulse searches the header
    /// asks for, which do not depend on the acceleration.
    public static func search(
        trial: Int, header: WorkUnitHeader, samples: UnsafeBufferPointer<Float>, searcher: PeriodicitySearcher
    ) -> TrialOutcome {
        let (index, a) = header.trial(trial)
        let series = Self.series(index, of: samples, header: header)
        let dm = header.dms[index], dmIndex = header.dmIndices[index]
        var candidates = searcher.search(
            samples: series, tsamp: header.sampleTime, acceleration: a, trialsPerSeries: header.accelerations.count,
            dm: dm, dmIndex: dmIndex)
        var hits: [SinglePulseHit]?
        if trial % header.accelerations.count == 0 {
            if let ffa = header.ffa {
                candidates += FFASearch(options: ffa, sigmaThreshold: header.search.sigmaThreshold)
                    .search(series, sampleTime: header.sampleTime, dm: dm, dmIndex: dmIndex)
            }
            if let singlePulse = header.singlePulse {
                hits = singlePulse.boxcar(sampleTime: header.sampleTime)
                    .search(series, sampleTime: header.sampleTime, dm: dm, dmIndex: dmIndex)
            }
        }
        return TrialOutcome(
            trial: trial, candidates: candidates, toplist: searcher.lastToplist, peaksMeasured: searcher.lastPeaksMeasured,
            hits: hits)
    }

    /// Series `index` of a payload's samples.
    public static func series(_ index: Int, of samples: UnsafeBufferPointer<Float>, header: WorkUnitHeader) -> UnsafeBufferPointer<Float> {
        let n = header.samplesPerSeries
        return UnsafeBufferPointer(rebasing: samples[(index * n)..<((index + 1) * n)])
    }

    /// Runs the whole unit and packages the result for upload.
    public func result(software: String) -> WorkUnitResult {
        let started = Date()
        let cpuStart = CPUClock.processSeconds()
        var outcomes: [TrialOutcome] = []
        let completed = run { outcomes.append($0); return true }
        return TrialOutcome.result(
            of: outcomes, workUnitID: header.workUnitID, cpuSeconds: CPUClock.processSeconds() - cpuStart,
            elapsedSeconds: Date().timeIntervalSince(started), seriesSearched: completed, software: software,
            singlePulse: header.singlePulse)
    }

}

/// What one trial (one series at one acceleration) of a unit found: its candidates and its
/// spectrum's toplist. A worker logs one per trial, so a resumed search has every earlier one.
public struct TrialOutcome: Codable, Sendable, Equatable {
    /// The trial's number in its unit (series-major).
    public var trial: Int
    /// Candidates at or above the reporting threshold, strongest first.
    public var candidates: [SeriesCandidate]
    /// The spectrum's strongest bins.
    public var toplist: SpectrumToplist
    /// Peaks measured by Fourier interpolation (absent from logs written before it was counted).
    public var peaksMeasured: Int?
    /// The single-pulse search's hits in the trial's series (first trial of a series only, when
    /// the unit asks for that search).
    public var hits: [SinglePulseHit]?

    public init(
        trial: Int, candidates: [SeriesCandidate], toplist: SpectrumToplist, peaksMeasured: Int? = nil,
        hits: [SinglePulseHit]? = nil
    ) {
        self.hits = hits
        self.trial = trial
        self.candidates = candidates
        self.toplist = toplist
        self.peaksMeasured = peaksMeasured
    }

    /// The result of a unit from its trials' outcomes, in trial order. `singlePulse`: the unit's
    /// single-pulse options when it asked for that search (its hits are then reported, even if none).
    public static func result(
        of outcomes: [TrialOutcome], workUnitID: String, cpuSeconds: Double, elapsedSeconds: Double, seriesSearched: Int,
        software: String, singlePulse: SinglePulseUnitOptions? = nil
    ) -> WorkUnitResult {
        let ordered = outcomes.sorted { $0.trial < $1.trial }
        return WorkUnitResult(
            workUnitID: workUnitID, candidates: ordered.flatMap(\.candidates), toplists: ordered.map(\.toplist),
            cpuSeconds: cpuSeconds, elapsedSeconds: elapsedSeconds, seriesSearched: seriesSearched, software: software,
            peaksMeasured: ordered.reduce(0) { $0 + ($1.peaksMeasured ?? $1.candidates.count) },
            singlePulseHits: singlePulse == nil ? nil : ordered.flatMap { $0.hits ?? [] }, singlePulseOptions: singlePulse)
    }
}
