import Foundation
import PulsarSearch
import Testing
import WorkUnits
import XunxingProtocol

/// The coordinator's own checks of results: honest ones pass on every seed, each forgery is caught
/// by running it, and the tolerances sit well above the measured spread of honest computations.
@Suite("Result audit")
struct AuditTests {
    /// A 3-series, 3-acceleration unit of noise with a pulsar of unequal harmonics in series 1,
    /// written and read back as a payload (so the samples are quantised as workers see them).
    /// The payload stays in a temporary directory of the process (workers search the file itself:
    /// writing the samples again would quantise them a second time).
    static func unit(seed: UInt64, samples: Int = 20_000) throws -> (WorkUnitHeader, [Float]) {
        var header = Fixtures.header(series: 3, samples: samples, id: "wu-audit-\(seed)")
        header.search.toplistSize = 8
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var data = Fixtures.noise(count: 3 * samples, seed: seed)
        let period = 0.0173 + 0.0001 * Double(seed)
        for j in 0..<samples {
            let phase = (Double(j) * header.sampleTime / period).truncatingRemainder(dividingBy: 1)
            data[samples + j] += Float(1.2 * exp(-pow((phase - 0.4) / 0.03, 2)) + 0.4 * exp(-pow((phase - 0.7) / 0.08, 2)))
        }
        let path = directory + "/\(header.workUnitID)-\(samples).xxwu"
        try Fixtures.write(header, bits: 8, data: data, to: path)
        return try WorkUnitPayload.read(path: path)
    }

    static let directory = (NSTemporaryDirectory() as NSString).appendingPathComponent("xunxing-audit-\(getpid())")

    static func search(_ header: WorkUnitHeader, _ samples: [Float], planner: FFTPlanner = Fixtures.planner) throws -> WorkUnitResult {
        let path = directory + "/\(header.workUnitID)-\(header.samplesPerSeries).xxwu"
        let executor = try WorkUnitExecutor(payload: path, planner: planner)
        #expect(executor.samples == samples)
        return executor.result(software: "test")
    }

    /// Checks every entry and always searches a trial again.
    static let thorough = ResultAudit(spotChecks: 1_000, researchRate: 1)

    @Test("honest results pass every check (all 72 entries recomputed, a trial searched again) on eight seeds")
    func honestPasses() throws {
        for seed in 1...8 as ClosedRange<UInt64> {
            let (header, samples) = try Self.unit(seed: seed)
            let result = try Self.search(header, samples)
            var random = SeededGenerator(seed: seed)
            let verdict = Self.thorough.audit(result, header: header, samples: samples, planner: Fixtures.planner, random: &random)
            guard case let .passed(entries, researched) = verdict else {
                Issue.record("seed \(seed): \(verdict)")
                continue
            }
            #expect(entries == 72 && researched != nil)
            #expect(result.candidates.contains { $0.dmIndex == 41 }, "seed \(seed): the pulsar should be found")
        }
    }

    @Test("a result counts the peaks its trials measured: the sum of a searcher's counts over the trials, between the candidates and 2 x maxCandidates per trial")
    func peaksMeasured() throws {
        // Seeds of their own: the tests run in parallel and each seed's payload is one file.
        for seed in 31...34 as ClosedRange<UInt64> {
            let (header, samples) = try Self.unit(seed: seed)
            let result = try Self.search(header, samples)
            // Recounted trial by trial with a searcher of our own.
            let searcher = PeriodicitySearcher(planner: Fixtures.planner, parameters: header.search)
            var total = 0, candidates = 0
            samples.withUnsafeBufferPointer { all in
                for trial in 0..<header.trialCount {
                    let (series, a) = header.trial(trial)
                    let found = searcher.search(
                        samples: WorkUnitExecutor.series(series, of: all, header: header), tsamp: header.sampleTime,
                        acceleration: a, trialsPerSeries: header.accelerations.count, dm: header.dms[series],
                        dmIndex: header.dmIndices[series])
                    #expect(searcher.lastPeaksMeasured >= found.count && searcher.lastPeaksMeasured <= 2 * header.search.maxCandidates)
                    total += searcher.lastPeaksMeasured
                    candidates += found.count
                }
            }
            #expect(result.peaksMeasured == total && result.candidates.count == candidates)
            #expect(total > candidates, "seed \(seed): some peaks measured fall below the threshold (\(total) vs \(candidates))")
        }
    }

    @Test("missing, short, unordered or out-of-range toplists are malformed")
    func shapes() throws {
        let (header, samples) = try Self.unit(seed: 3)
        let honest = try Self.search(header, samples)
        var random = SeededGenerator(seed: 1)
        func verdict(_ edit: (inout WorkUnitResult) -> Void) -> ResultAudit.Verdict {
            var r = honest
            edit(&r)
            return Self.thorough.audit(r, header: header, samples: samples, planner: Fixtures.planner, random: &random)
        }
        let cases: [(String, (inout WorkUnitResult) -> Void)] = [
            ("none", { $0.toplists = [] }),
            ("one trial short", { $0.toplists.removeLast() }),
            ("an entry short", { r in r.toplists[4].bins.removeLast(); r.toplists[4].powers.removeLast(); r.toplists[4].fourierPowers.removeLast() }),
            ("arrays disagree", { $0.toplists[0].powers.removeLast() }),
            ("bin outside the spectrum", { $0.toplists[2].bins[0] = 1 << 30 }),
            ("bin twice", { $0.toplists[2].bins[1] = $0.toplists[2].bins[0] }),
            ("not strongest first", { $0.toplists[1].powers.swapAt(0, 7) }),
            ("NaN power", { $0.toplists[5].fourierPowers[3] = .nan }),
            // Peaks measured bound the credit: never fewer than the candidates, never more than
            // 2 x maxCandidates per trial.
            ("fewer peaks than candidates", { $0.peaksMeasured = $0.candidates.count - 1 }),
            ("more peaks than a search measures", { $0.peaksMeasured = 2 * header.search.maxCandidates * header.trialCount + 1 }),
            ("more candidates than a search reports", { r in
                r.candidates = Array(repeating: r.candidates[0], count: header.search.maxCandidates * header.trialCount + 1)
                r.peaksMeasured = r.candidates.count }),
        ]
        #expect(!honest.candidates.isEmpty)
        for (name, edit) in cases {
            guard case .malformed = verdict(edit) else {
                Issue.record("\(name): \(verdict(edit))")
                continue
            }
        }
    }

    @Test("forged toplists are caught: invented entries by a spot check, plausible but wrong bins by a re-search")
    func forgeries() throws {
        let (header, samples) = try Self.unit(seed: 5)
        let honest = try Self.search(header, samples)
        let range = ResultAudit.searchedBins(header)
        var random = SeededGenerator(seed: 9)
        // An invented toplist of the right shape: random bins, made-up powers, for every trial.
        var invented = honest
        for t in invented.toplists.indices {
            let bins = Array(Set((0..<40).map { _ in Int.random(in: range, using: &random) })).prefix(8)
            invented.toplists[t] = SpectrumToplist(
                bins: Array(bins), powers: (0..<8).map { Float(20 - $0) }, fourierPowers: (0..<8).map { 1e4 * Double(20 - $0) })
        }
        let spot = ResultAudit(spotChecks: 4, researchRate: 0)
        var caught = 0
        for seed in 1...50 as ClosedRange<UInt64> {
            var r = SeededGenerator(seed: seed)
            if case .forged = spot.audit(invented, header: header, samples: samples, planner: Fixtures.planner, random: &r) { caught += 1 }
        }
        #expect(caught == 50, "4 spot checks caught \(caught) of 50 audits of an invented toplist")

        // One entry's power 1% high: within a spot check's reach only when that entry is drawn.
        var nudged = honest
        nudged.toplists[4].fourierPowers[2] *= 1.01
        var r = SeededGenerator(seed: 2)
        guard case .forged = Self.thorough.audit(nudged, header: header, samples: samples, planner: Fixtures.planner, random: &r) else {
            Issue.record("a 1% error in one entry was not caught by checking every entry")
            return
        }

        // True |X_k|^2 of bins that are not the strongest: every spot check passes, a re-search does not.
        var weaker = honest
        for t in weaker.toplists.indices {
            let list = honest.toplists[t]
            let taken = Set(list.bins)
            let others = Array(range.filter { !taken.contains($0) }.prefix(8))
            var prepared = [Float](repeating: 0, count: PeriodicitySearcher.fftSize(forSamples: header.samplesPerSeries))
            let (series, a) = header.trial(t)
            samples.withUnsafeBufferPointer { all in
                prepared.withUnsafeMutableBufferPointer {
                    PeriodicitySearcher.prepare(WorkUnitExecutor.series(series, of: all, header: header), tsamp: header.sampleTime, acceleration: a, into: $0)
                }
            }
            let powers = others.map { k in prepared.withUnsafeBufferPointer { SingleBinDFT.power($0, length: prepared.count, bin: Double(k)) } }
            weaker.toplists[t] = SpectrumToplist(bins: others, powers: (0..<8).map { Float(9 - $0) }, fourierPowers: powers)
        }
        r = SeededGenerator(seed: 3)
        #expect(ResultAudit(spotChecks: 1_000, researchRate: 0).audit(weaker, header: header, samples: samples, planner: Fixtures.planner, random: &r)
            == .passed(entries: 72, researchedTrial: nil))
        r = SeededGenerator(seed: 3)
        guard case .forged = Self.thorough.audit(weaker, header: header, samples: samples, planner: Fixtures.planner, random: &r) else {
            Issue.record("a toplist of the wrong bins passed a re-search")
            return
        }
    }

    @Test("an invented candidate beside honest toplists is caught by searching its trial again")
    func inventedCandidate() throws {
        let (header, samples) = try Self.unit(seed: 6)
        var result = try Self.search(header, samples)
        // One strong invented detection in every trial, so whichever trial is searched again has one.
        for t in 0..<result.toplists.count {
            let (series, acceleration) = header.trial(t)
            result.candidates.append(SeriesCandidate(
                frequency: 123.456, harmonics: 4, power: 60, sigma: 9, acceleration: acceleration,
                dm: header.dms[series], dmIndex: header.dmIndices[series]))
        }
        var r = SeededGenerator(seed: 4)
        guard case .forged = Self.thorough.audit(result, header: header, samples: samples, planner: Fixtures.planner, random: &r) else {
            Issue.record("an invented candidate passed a re-search")
            return
        }
    }

    @Test("measured spread of honest toplists: FFTW ESTIMATE against MEASURE plans, and FFT against single-bin DFT")
    func spread() throws {
        // A length no other test plans, so the ESTIMATE plan is not built from MEASURE wisdom.
        let (header, samples) = try Self.unit(seed: 11, samples: 23_100)
        let estimate = try Self.search(header, samples, planner: FFTPlanner(rigor: .estimate))
        let measure = try Self.search(header, samples, planner: FFTPlanner(rigor: .measure))
        var powerSpread = 0.0, fourierSpread = 0.0, dftSpread = 0.0, swapped = 0
        let size = PeriodicitySearcher.fftSize(forSamples: header.samplesPerSeries)
        for (t, (a, b)) in zip(estimate.toplists, measure.toplists).enumerated() {
            swapped += Set(a.bins).symmetricDifference(b.bins).count
            var prepared = [Float](repeating: 0, count: size)
            let (series, acc) = header.trial(t)
            samples.withUnsafeBufferPointer { all in
                prepared.withUnsafeMutableBufferPointer {
                    PeriodicitySearcher.prepare(WorkUnitExecutor.series(series, of: all, header: header), tsamp: header.sampleTime, acceleration: acc, into: $0)
                }
            }
            for i in 0..<a.count {
                if let j = b.bins.firstIndex(of: a.bins[i]) {
                    powerSpread = max(powerSpread, abs(Double(a.powers[i] - b.powers[j])) / Double(a.powers[i]))
                    fourierSpread = max(fourierSpread, abs(a.fourierPowers[i] - b.fourierPowers[j]) / a.fourierPowers[i])
                }
                let exact = prepared.withUnsafeBufferPointer { SingleBinDFT.power($0, length: size, bin: Double(a.bins[i])) }
                dftSpread = max(dftSpread, abs(a.fourierPowers[i] - exact) / exact)
            }
        }
        print(String(format: "toplist spread: whitened power %.2e, |X|^2 %.2e between plans; FFT vs DFT %.2e; %d bins swapped", powerSpread, fourierSpread, dftSpread, swapped))
        let tolerance = ToplistTolerance()
        #expect(powerSpread * 5 < tolerance.powerRelative && fourierSpread * 5 < tolerance.fourierRelative && dftSpread * 5 < tolerance.fourierRelative)
        #expect(ResultComparison.agree(estimate, measure, duration: header.duration, reportingThreshold: header.search.sigmaThreshold))
    }
}
