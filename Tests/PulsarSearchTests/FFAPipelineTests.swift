import Foundation
import Testing
@testable import PulsarSearch

/// The FFA inside the whole search: every DM trial, the same sifting and folding.
@Suite("FFA in the search pipeline")
struct FFAPipelineTests {
    /// 64 channels, 2^17 samples of 1 ms (131 s), a 3.3 s pulsar with a 0.6% duty cycle at DM 150
    /// (a 25 ms sweep across the band, more than its 20 ms pulse).
    static var observation: SimulatedObservation {
        var o = SimulatedObservation()
        o.tsamp = 1e-3
        o.samples = 1 << 17
        o.seed = 41
        o.pulsars = [InjectedPulsar(period: 3.3, dm: 150, dutyCycle: 0.006, snr: 13)]
        return o
    }

    static func configuration(fft: Bool, ffa: Bool) -> SearchConfiguration {
        var c = SearchFixtures.configuration(dmMax: 300)
        c.fft = fft
        if ffa {
            var o = FFAOptions()
            o.periodMax = 20
            c.ffa = o
        }
        return c
    }

    @Test("a long-period narrow pulsar: the FFA's detection is stronger than the harmonic sum's, sifted and folded the same way")
    func ffaBeatsTheHarmonicSum() throws {
        let both = try SearchFixtures.search(Self.observation, Self.configuration(fft: true, ffa: true))
        let fftOnly = try SearchFixtures.search(Self.observation, Self.configuration(fft: true, ffa: false))
        guard let (rank, ffa) = SearchFixtures.match(both, period: 3.3, tolerance: 0.002) else {
            Issue.record("no candidate at 3.3 s with the FFA: \(SearchFixtures.summary(both))")
            return
        }
        #expect(rank == 0, "\(SearchFixtures.summary(both))")
        #expect(ffa.method == .ffa && ffa.dutyCycle != nil, "the best detection should be the FFA's")
        #expect(ffa.dutyCycle.map { $0 > 0.003 && $0 < 0.015 } == true, "duty \(ffa.dutyCycle ?? 0) against 0.006")
        #expect(abs(ffa.dm - 150) < 20, "DM \(ffa.dm): \(ffa.dmCurve)")
        #expect(ffa.snrFolded > 8 && !ffa.profile.isEmpty, "folded like any candidate: S/N \(ffa.snrFolded)")
        #expect(ffa.dmHits >= 2)
        // The harmonic sum misses it (nothing within 0.2% of 3.3 s at the reporting threshold) or
        // finds it weaker.
        let fftSigma = SearchFixtures.match(fftOnly, period: 3.3, tolerance: 0.002)?.candidate.sigma ?? Self.configuration(fft: true, ffa: false).sigmaThreshold
        #expect(ffa.sigma > fftSigma + 1, "FFA sigma \(ffa.sigma) against the FFT's \(fftSigma)")
        // The JSON fields of the FFT search, plus the method and duty cycle.
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(ffa)) as! [String: Any]
        #expect(json["method"] as? String == "ffa" && json["duty_cycle"] is Double && json["period_s"] is Double)
    }

    @Test("the FFA alone finds the pulsar and nothing else; noise alone gives nothing")
    func ffaAlone() throws {
        let report = try SearchFixtures.search(Self.observation, Self.configuration(fft: false, ffa: true))
        #expect(SearchFixtures.match(report, period: 3.3, tolerance: 0.002)?.rank == 0, "\(SearchFixtures.summary(report))")
        #expect(report.candidates.allSatisfy { $0.method == .ffa })
        // Anything else it reports is the pulsar at a harmonic ratio (its folds at 2P, P/2, ...).
        for c in report.candidates.dropFirst() {
            let ratio = c.periodS / 3.3
            let related = (1...8).contains { q in (1...8).contains { p in abs(ratio - Double(p) / Double(q)) < 0.01 * ratio } }
            #expect(related, "\(c.periodS) s is not related to the pulsar")
        }
        var noise = Self.observation
        noise.pulsars = []
        noise.seed = 42
        let none = try SearchFixtures.search(noise, Self.configuration(fft: false, ffa: true))
        #expect(none.candidates.isEmpty, "\(SearchFixtures.summary(none))")
    }
}
