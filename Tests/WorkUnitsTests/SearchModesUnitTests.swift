import Foundation
import PulsarSearch
import Testing
import WorkUnits
import XunxingProtocol

/// Work units that ask for the FFA and the single-pulse search besides the Fourier search.
@Suite("Work units with the FFA and single-pulse searches")
struct SearchModesUnitTests {
    /// 3 series of 2^16 samples of 256 us (16.8 s): series 1 holds a 1.3 s pulse train (duty 1%)
    /// and, in series 1 and 2, a bright 2 ms pulse at 7 s.
    static func unit(seed: UInt64) throws -> (WorkUnitHeader, [Float], String) {
        let samples = 1 << 16
        var header = Fixtures.header(series: 3, samples: samples, id: "wu-modes-\(seed)")
        header.search.toplistSize = 8
        header.ffa = FFAOptions()
        header.ffa!.periodMax = 5
        header.singlePulse = SinglePulseUnitOptions(snrThreshold: 6, maxWidth: 0.02, maxHitsPerSeries: 50)
        var data = Fixtures.noise(count: 3 * samples, seed: seed)
        let width = Int(0.013 / header.sampleTime)
        var t = 0.2
        while Int(t / header.sampleTime) + width < samples {
            for i in 0..<width { data[samples + Int(t / header.sampleTime) + i] += 0.35 }
            t += 1.3
        }
        let pulse = Int(7 / header.sampleTime)
        for s in [1, 2] { for i in 0..<8 { data[s * samples + pulse + i] += 6 } }
        let directory = try Fixtures.temporaryDirectory("modes")
        let path = directory + "/\(header.workUnitID).xxwu"
        try Fixtures.write(header, bits: 8, data: data, to: path)
        let (h, read) = try WorkUnitPayload.read(path: path)
        return (h, read, path)
    }

    @Test("the result carries the FFA's detections and the single-pulse hits; honest results pass the audit, trial by trial, and agree")
    func honestResults() throws {
        let (header, samples, path) = try Self.unit(seed: 3)
        let executor = try WorkUnitExecutor(payload: path, planner: Fixtures.planner)
        let result = executor.result(software: "test")
        #expect(result.candidates.contains { $0.method == .ffa && $0.dmIndex == header.dmIndices[1] && abs(1 / $0.frequency - 1.3) < 0.01 },
                "\(result.candidates.filter { $0.method == .ffa }.map { (1 / $0.frequency, $0.sigma) })")
        #expect(ResultComparison.implausibility(result, seriesCount: header.trialCount, reportingThreshold: header.search.sigmaThreshold) == nil)
        let hits = try #require(result.singlePulseHits)
        for s in [1, 2] {
            #expect(hits.contains { $0.dmIndex == header.dmIndices[s] && abs($0.time - 7.001) < 0.01 && $0.snr > 10 }, "series \(s)")
        }
        // Every trial searched again matches (a clean resume gives the same result too): seeds are
        // drawn until every trial has been searched again.
        var researched = Set<Int>()
        var seed: UInt64 = 0
        while researched.count < header.trialCount && seed < 200 {
            var random = SeededGenerator(seed: seed)
            seed += 1
            let audit = ResultAudit(spotChecks: 8, researchRate: 1)
            let verdict = audit.audit(result, header: header, samples: samples, planner: Fixtures.planner, random: &random)
            guard case let .passed(_, trial) = verdict, let trial else {
                Issue.record("seed \(seed - 1): \(verdict)")
                break
            }
            researched.insert(trial)
        }
        #expect(researched == Set(0..<header.trialCount))
        var outcomes: [TrialOutcome] = []
        var next = executor.run(from: 0) { outcomes.append($0); return outcomes.count < 2 }
        next = executor.run(from: next) { outcomes.append($0); return true }
        let resumed = TrialOutcome.result(
            of: outcomes, workUnitID: header.workUnitID, cpuSeconds: 0, elapsedSeconds: 0, seriesSearched: next, software: "t",
            singlePulse: header.singlePulse)
        #expect(resumed.singlePulseHits == result.singlePulseHits && resumed.candidates == result.candidates)
        #expect(ResultComparison.agree(result, resumed, duration: header.duration, reportingThreshold: header.search.sigmaThreshold))
    }

    @Test("replicas disagree when a strong hit is missing, moved or changed, or an FFA detection is passed off as the FFT's; weak hits may differ")
    func comparison() throws {
        let (header, _, path) = try Self.unit(seed: 4)
        let result = try WorkUnitExecutor(payload: path, planner: Fixtures.planner).result(software: "test")
        let hits = try #require(result.singlePulseHits)
        let agree = { (b: WorkUnitResult) in
            ResultComparison.agree(result, b, duration: header.duration, reportingThreshold: header.search.sigmaThreshold)
                && ResultComparison.agree(b, result, duration: header.duration, reportingThreshold: header.search.sigmaThreshold)
        }
        let strong = try #require(hits.indices.max { hits[$0].snr < hits[$1].snr })
        var b = result
        b.singlePulseHits!.remove(at: strong)
        #expect(!agree(b), "a missing strong hit")
        b = result
        b.singlePulseHits![strong].start += 5 * hits[strong].width
        #expect(!agree(b), "a moved strong hit")
        b = result
        b.singlePulseHits![strong].snr *= 1.2
        #expect(!agree(b), "a changed S/N")
        b = result
        b.singlePulseHits = nil
        #expect(!agree(b), "no hits at all")
        b = result
        let ffa = try #require(b.candidates.firstIndex { $0.method == .ffa })
        b.candidates[ffa].dutyCycle = nil
        #expect(!agree(b), "an FFA detection relabelled")
        b = result
        b.singlePulseOptions?.snrThreshold = 5
        #expect(!agree(b), "hits claimed at another threshold")
        // A series whose only hit is strong: hiding it is caught (the threshold, not the weakest
        // reported hit, decides what is strong).
        let lone = try #require(hits.first { h in h.snr > 8 && hits.filter { $0.dmIndex == h.dmIndex }.count == 1 } ?? {
            var extra = hits[strong]
            extra.dmIndex = header.dmIndices[0]
            return extra
        }())
        var withLone = result
        withLone.singlePulseHits!.removeAll { $0.dmIndex == lone.dmIndex }
        withLone.singlePulseHits!.append(lone)
        b = withLone
        b.singlePulseHits!.removeAll { $0 == lone }
        #expect(ResultComparison.agree(withLone, withLone, duration: header.duration, reportingThreshold: header.search.sigmaThreshold))
        #expect(!ResultComparison.agree(withLone, b, duration: header.duration, reportingThreshold: header.search.sigmaThreshold),
                "a series' lone strong hit hidden")
        // Hits within 1 of the threshold may be missing.
        b = result
        b.singlePulseHits!.removeAll { $0.snr < 6.9 }
        #expect(b.singlePulseHits!.count < hits.count && agree(b), "weak hits removed: \(hits.filter { $0.snr < 6.9 }.count)")
    }
}
