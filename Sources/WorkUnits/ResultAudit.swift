import PulsarSearch
import XunxingProtocol

/// The coordinator's own check of one result against the unit's payload, independent of what
/// other replicas say: a pair of accounts can agree on anything, but neither can write a toplist
/// without computing the spectrum it comes from.
///
/// Three checks, cheapest first:
/// - **shape** (``ResultAudit/shapeProblem(_:header:)``): one toplist per trial, each of the
///   header's size, bins inside the searched range, distinct, strongest first, finite;
/// - **spot checks**: `spotChecks` random toplist entries, each recomputed by one O(n)
///   ``SingleBinDFT`` of the trial's prepared series and compared with its reported `fourierPower`;
/// - **re-search**, for a random fraction of results: one random trial searched again in full and
///   its toplist and candidates compared with the reported ones.
public struct ResultAudit: Sendable {
    /// Random toplist entries recomputed per result.
    public var spotChecks: Int
    /// Fraction of results of which one random trial is searched again (0...1).
    public var researchRate: Double
    /// How far an honest recomputation may differ (see ``ToplistTolerance``).
    public var tolerance: ToplistTolerance

    public init(spotChecks: Int = 4, researchRate: Double = 0.02, tolerance: ToplistTolerance = .init()) {
        self.spotChecks = spotChecks
        self.researchRate = researchRate
        self.tolerance = tolerance
    }

    /// The outcome of an audit.
    public enum Verdict: Sendable, Equatable {
        /// Every check passed: `entries` toplist entries recomputed, `researchedTrial` searched again.
        case passed(entries: Int, researchedTrial: Int?)
        /// The result is not a well-formed report of the unit (missing or short toplists, entries
        /// out of range): invalid, like a result that disagrees.
        case malformed(String)
        /// A reported number is not what the payload gives: the result was not computed. Its host
        /// loses its trust and its hours.
        case forged(String)
    }

    /// Why a result's toplists cannot be a search of the unit described by `header`; nil when
    /// their shape is right. Needs no samples.
    public static func shapeProblem(_ result: WorkUnitResult, header: WorkUnitHeader) -> String? {
        let trials = header.trialCount
        guard result.toplists.count == trials else {
            return "\(result.toplists.count) toplists for \(trials) trials"
        }
        // The Fourier search's candidates are measured peaks; the FFA's (at most its peaks per
        // series, once per series) are not.
        let most = trials * max(0, header.search.maxCandidates)
        let fourier = result.candidates.filter { $0.method == .fft }.count
        let ffa = result.candidates.count - fourier
        guard fourier <= most else {
            return "\(fourier) candidates, more than \(header.search.maxCandidates) for each of \(trials) trials"
        }
        let ffaMost = header.ffa.map { header.seriesCount * $0.maxPeaksPerSeries } ?? 0
        guard ffa <= ffaMost else { return "\(ffa) FFA candidates, at most \(ffaMost) for \(header.seriesCount) series" }
        switch (header.singlePulse, result.singlePulseHits) {
        case (nil, nil): break
        case (nil, .some): return "single-pulse hits the unit did not ask for"
        case (.some, nil): return "no single-pulse hits: the unit asked for that search"
        case let (.some(options), .some(hits)):
            guard result.singlePulseOptions == options else {
                return "single-pulse hits found with other options than the unit's"
            }
            let hitsMost = header.seriesCount * options.maxHitsPerSeries
            guard hits.count <= hitsMost else { return "\(hits.count) single-pulse hits, at most \(hitsMost)" }
            let series = Set(header.dmIndices)
            if let bad = hits.first(where: { !series.contains($0.dmIndex) }) { return "a single-pulse hit at DM trial \(bad.dmIndex), not in the unit" }
        }
        guard result.peaksMeasured >= fourier, result.peaksMeasured <= 2 * most else {
            return "\(result.peaksMeasured) peaks measured for \(fourier) candidates (at most \(2 * header.search.maxCandidates) per trial)"
        }
        let range = searchedBins(header)
        let expected = min(header.search.toplistSize, range.count)
        for (trial, list) in result.toplists.enumerated() {
            guard list.isConsistent else { return "toplist \(trial): arrays of different lengths" }
            guard list.count == expected else { return "toplist \(trial): \(list.count) entries, expected \(expected)" }
            var seen = Set<Int>()
            for i in 0..<list.count {
                let bin = list.bins[i], power = list.powers[i], fourier = list.fourierPowers[i]
                guard range.contains(bin) else { return "toplist \(trial) entry \(i): bin \(bin) outside \(range)" }
                guard seen.insert(bin).inserted else { return "toplist \(trial) entry \(i): bin \(bin) twice" }
                guard power.isFinite, power >= 0, fourier.isFinite, fourier >= 0 else {
                    return "toplist \(trial) entry \(i): power \(power), Fourier power \(fourier)"
                }
                if i > 0, power > list.powers[i - 1] { return "toplist \(trial) entry \(i): not strongest first" }
            }
        }
        return nil
    }

    /// Bins a search of the header's series covers (as ``PeriodicitySearcher`` selects them).
    public static func searchedBins(_ header: WorkUnitHeader) -> Range<Int> {
        // The searcher does not search series under 64 samples.
        guard header.samplesPerSeries >= 64 else { return 0..<0 }
        return PeriodicitySearcher.searchedBins(samples: header.samplesPerSeries, tsamp: header.sampleTime, minFrequency: header.search.minFrequency)
    }

    /// Audits `result` against the payload (`header`, `samples`), drawing the entries and the
    /// trial to re-search from `random`.
    public func audit<R: RandomNumberGenerator>(
        _ result: WorkUnitResult, header: WorkUnitHeader, samples: [Float], planner: FFTPlanner, random: inout R
    ) -> Verdict {
        if let problem = Self.shapeProblem(result, header: header) { return .malformed(problem) }
        // Shapes are checked: every toplist has the same number of entries.
        let perTrial = result.toplists.first?.count ?? 0
        let total = perTrial * result.toplists.count
        guard total > 0 else { return .passed(entries: 0, researchedTrial: nil) }
        var drawn = Set<Int>()
        if spotChecks >= total {
            drawn = Set(0..<total)
        } else {
            while drawn.count < spotChecks { drawn.insert(Int.random(in: 0..<total, using: &random)) }
        }
        let chosen = drawn.map { ($0 / perTrial, $0 % perTrial) }
        let size = PeriodicitySearcher.fftSize(forSamples: header.samplesPerSeries)
        var prepared = [Float](repeating: 0, count: size)
        var preparedTrial = -1
        for (trial, i) in chosen.sorted(by: { $0 < $1 }) {
            if trial != preparedTrial {
                prepare(trial: trial, header: header, samples: samples, into: &prepared)
                preparedTrial = trial
            }
            let bin = result.toplists[trial].bins[i]
            let reported = result.toplists[trial].fourierPowers[i]
            let actual = prepared.withUnsafeBufferPointer { SingleBinDFT.power($0, length: size, bin: Double(bin)) }
            guard tolerance.fourierPowersAgree(reported, actual) else {
                return .forged("trial \(trial) bin \(bin): reported |X|^2 \(reported), the payload gives \(actual)")
            }
        }
        var researched: Int?
        if researchRate > 0, Double.random(in: 0..<1, using: &random) < researchRate {
            let trial = Int.random(in: 0..<result.toplists.count, using: &random)
            if let problem = research(trial: trial, of: result, header: header, samples: samples, planner: planner) {
                return .forged("trial \(trial) searched again: \(problem)")
            }
            researched = trial
        }
        return .passed(entries: chosen.count, researchedTrial: researched)
    }

    /// Searches `trial` again and compares it with the result; the first difference, or nil.
    func research(trial: Int, of result: WorkUnitResult, header: WorkUnitHeader, samples: [Float], planner: FFTPlanner) -> String? {
        let (series, acceleration) = header.trial(trial)
        let searcher = PeriodicitySearcher(planner: planner, parameters: header.search)
        let outcome = samples.withUnsafeBufferPointer {
            WorkUnitExecutor.search(trial: trial, header: header, samples: $0, searcher: searcher)
        }
        if let problem = tolerance.difference(result.toplists[trial], outcome.toplist) { return problem }
        // The candidates (and single-pulse hits) the trial gives, compared as replicas' are.
        let dmIndex = header.dmIndices[series]
        let reported = result.candidates.filter { $0.dmIndex == dmIndex && ResultComparison.sameTrial($0.acceleration, acceleration) }
        let reportedHits = outcome.hits == nil ? nil : (result.singlePulseHits ?? []).filter { $0.dmIndex == dmIndex }
        let mine = WorkUnitResult(
            workUnitID: result.workUnitID, candidates: outcome.candidates, cpuSeconds: 0, elapsedSeconds: 0, seriesSearched: 1,
            software: "", singlePulseHits: outcome.hits, singlePulseOptions: header.singlePulse)
        let theirs = WorkUnitResult(
            workUnitID: result.workUnitID, candidates: reported, cpuSeconds: 0, elapsedSeconds: 0, seriesSearched: 1,
            software: "", singlePulseHits: reportedHits, singlePulseOptions: header.singlePulse)
        guard ResultComparison.candidatesAgree(mine, theirs, duration: header.duration, reportingThreshold: header.search.sigmaThreshold) else {
            return "\(reported.count) candidates reported, \(outcome.candidates.count) found, and they differ"
        }
        guard ResultComparison.hitsAgree(mine, theirs) else {
            return "\(reportedHits?.count ?? 0) single-pulse hits reported, \(outcome.hits?.count ?? 0) found, and they differ"
        }
        return nil
    }

    /// Writes trial `trial`'s series, prepared as the search transforms it, into `output`.
    private func prepare(trial: Int, header: WorkUnitHeader, samples: [Float], into output: inout [Float]) {
        let (series, acceleration) = header.trial(trial)
        samples.withUnsafeBufferPointer { all in
            output.withUnsafeMutableBufferPointer {
                PeriodicitySearcher.prepare(
                    WorkUnitExecutor.series(series, of: all, header: header), tsamp: header.sampleTime, acceleration: acceleration, into: $0)
            }
        }
    }
}

extension ResultAudit {
    /// Why a result is turned down.
    public enum Rejection: Sendable, Equatable {
        /// Not a well-formed report of the unit: invalid, like a result that disagrees.
        case malformed(String)
        /// A number the payload contradicts: its host loses its trust and its hours.
        case forged(String)
    }
}

extension ResultAudit.Verdict {
    /// Why the result is turned down; nil when every check passed.
    public var rejection: ResultAudit.Rejection? {
        switch self {
        case .passed: return nil
        case let .malformed(reason): return .malformed(reason)
        case let .forged(reason): return .forged(reason)
        }
    }
}
