import Foundation
import PulsarSearch
import Testing

/// One injected pulsar and the observation that carries it.
struct Injection: CustomStringConvertible, Sendable {
    var pulsar: InjectedPulsar
    var channels = 64
    var fch1 = 1500.0
    var foff = -4.0
    var tsamp = 256e-6
    var samples = 1 << 17
    var dmMax: Double? = nil
    var nbits = 8

    var description: String {
        String(format: "P=%.4g s DM=%g duty=%g%% S/N=%g", pulsar.period, pulsar.dm, pulsar.dutyCycle * 100, pulsar.snr)
    }

    var observation: SimulatedObservation {
        var o = SimulatedObservation()
        o.channels = channels
        o.fch1 = fch1
        o.foff = foff
        o.tsamp = tsamp
        o.samples = samples
        o.nbits = nbits
        o.seed = UInt64(abs(Int(pulsar.period * 1e6) &+ Int(pulsar.dm * 10)))
        o.pulsars = [pulsar]
        return o
    }
}

@Suite("Search pipeline on simulated pulsars")
struct PipelineTests {
    /// Periods 1.5 ms to 2 s, DMs 0 to 500, duty cycles 1% to 20%, S/N a little above where the
    /// search stops seeing pulsars (about 10-12 for 5% duty cycles with the default threshold).
    static let injections: [Injection] = [
        // Millisecond pulsar: fast sampling, narrow channels.
        Injection(pulsar: InjectedPulsar(period: 0.0015, dm: 30, dutyCycle: 0.08, snr: 16),
                  channels: 128, fch1: 1500, foff: -1, tsamp: 64e-6, samples: 1 << 18, dmMax: 60),
        Injection(pulsar: InjectedPulsar(period: 0.0051, dm: 120, dutyCycle: 0.05, snr: 15),
                  channels: 128, fch1: 1500, foff: -1, tsamp: 64e-6, samples: 1 << 18, dmMax: 200),
        // Low DM (sifting drops signals that peak below DM 2, as terrestrial interference does).
        Injection(pulsar: InjectedPulsar(period: 0.033, dm: 3, dutyCycle: 0.03, snr: 14)),
        Injection(pulsar: InjectedPulsar(period: 0.089, dm: 500, dutyCycle: 0.05, snr: 15),
                  channels: 64, fch1: 1500, foff: -4, tsamp: 512e-6, samples: 1 << 17, dmMax: 600),
        // A 1% pulse spreads its power over ~100 harmonics, 16 of which are summed: S/N 18.
        Injection(pulsar: InjectedPulsar(period: 0.25, dm: 75, dutyCycle: 0.01, snr: 18)),
        Injection(pulsar: InjectedPulsar(period: 0.5, dm: 250, dutyCycle: 0.2, snr: 20),
                  tsamp: 512e-6, samples: 1 << 17, dmMax: 350),
        Injection(pulsar: InjectedPulsar(period: 2.0, dm: 40, dutyCycle: 0.03, snr: 16),
                  channels: 32, tsamp: 1e-3, samples: 1 << 17, dmMax: 100),
    ]

    @Test("injected pulsars are recovered at their period and DM", arguments: injections)
    func recovers(_ injection: Injection) throws {
        let report = try SearchFixtures.search(injection.observation, SearchFixtures.configuration(dmMax: injection.dmMax))
        let p = injection.pulsar
        // A pulse of width W pins the period to about W/T over an observation of length T.
        let duration = Double(injection.samples) * injection.tsamp
        let found = SearchFixtures.match(report, period: p.period, tolerance: max(5e-4, p.dutyCycle * p.period / duration))
        let summary = SearchFixtures.summary(report)
        let (rank, c) = try #require(found, "\(injection) not found; got \(summary)")
        #expect(rank == 0, "\(injection): ranked \(rank + 1); \(summary)")
        // DM is only as well defined as the pulse width allows: a DM error that shifts the bottom
        // of the band by a quarter of the pulse is hard to see. Otherwise 5%, and at least 3.
        let geometry = injection.observation
        let lowest = geometry.fch1 + Double(geometry.channels - 1) * geometry.foff
        let highest = geometry.fch1
        let perDM = Dispersion.delay(dm: 1, frequency: min(lowest, highest), reference: max(lowest, highest))
        let widthLimited = 0.25 * p.dutyCycle * p.period / perDM
        let dmTolerance = max(3, 0.05 * p.dm, widthLimited)
        #expect(abs(c.dm - p.dm) <= dmTolerance, "\(injection): DM \(c.dm); \(summary)")
        #expect(c.snrFolded > 5)
    }

    @Test("an accelerated binary pulsar needs, and gets, the acceleration search")
    func acceleratedPulsar() throws {
        var o = SimulatedObservation()
        o.channels = 64
        o.foff = -2
        o.tsamp = 64e-6
        o.samples = 1 << 20  // 67 s: the orbit drifts the 8th harmonic by about 8 Fourier bins
        o.seed = 21
        o.pulsars = [InjectedPulsar(period: 0.003, dm: 25, dutyCycle: 0.06, snr: 25, acceleration: 200)]
        var configuration = SearchFixtures.configuration(dmMax: 30, accelMax: 250)
        configuration.dmMin = 20
        let accelerated = try SearchFixtures.search(o, configuration)
        configuration.accelMax = 0
        let plain = try SearchFixtures.search(o, configuration)
        let (rank, c) = try #require(SearchFixtures.match(accelerated, period: 0.003, tolerance: 5e-4),
                                     "not found: \(SearchFixtures.summary(accelerated))")
        #expect(rank == 0, "\(SearchFixtures.summary(accelerated))")
        #expect(abs(c.accelMS2 - 200) < 20, "acceleration \(c.accelMS2)")
        #expect(abs(c.dm - 25) < 3)
        let plainSigma = SearchFixtures.match(plain, period: 0.003, tolerance: 5e-4)?.candidate.sigma ?? 0
        #expect(c.sigma > plainSigma + 3, "with acceleration \(c.sigma), without \(plainSigma)")
    }

    @Test("two unrelated pulsars, one at 3/2 the period of the other and another DM, both come out")
    func pulsarsAtAHarmonicRatio() throws {
        var o = SimulatedObservation()
        o.channels = 64
        o.foff = -4
        o.samples = 1 << 17
        o.seed = 33
        // 150.3/100 = 1.503: within the harmonic-ratio tolerance of 3/2 over a 33.6 s observation.
        o.pulsars = [InjectedPulsar(period: 0.100, dm: 40, dutyCycle: 0.04, snr: 18),
                     InjectedPulsar(period: 0.1503, dm: 160, dutyCycle: 0.04, snr: 14, phase: 0.3)]
        let report = try SearchFixtures.search(o, SearchFixtures.configuration(dmMax: 250))
        let summary = SearchFixtures.summary(report)
        let first = try #require(SearchFixtures.match(report, period: 0.100, tolerance: 1e-3), "100 ms lost: \(summary)")
        let second = try #require(SearchFixtures.match(report, period: 0.1503, tolerance: 1e-3), "150.3 ms lost: \(summary)")
        #expect(abs(first.candidate.dm - 40) < 10 && abs(second.candidate.dm - 160) < 10, "\(summary)")
    }

    @Test("an undispersed periodic signal (interference at DM 0) is dropped; kept when the cutoff is 0")
    func lowDMCutoff() throws {
        var o = SimulatedObservation()
        o.channels = 32
        o.foff = -4
        o.samples = 1 << 16
        o.seed = 8
        o.pulsars = [InjectedPulsar(period: 0.02, dm: 0, dutyCycle: 0.1, snr: 30)]
        var configuration = SearchFixtures.configuration(dmMax: 100)
        let report = try SearchFixtures.search(o, configuration)
        #expect(SearchFixtures.match(report, period: 0.02, tolerance: 1e-3) == nil, "\(SearchFixtures.summary(report))")
        configuration.sift.minDM = 0
        let kept = try SearchFixtures.search(o, configuration)
        #expect(SearchFixtures.match(kept, period: 0.02, tolerance: 1e-3) != nil, "\(SearchFixtures.summary(kept))")
    }

    @Test("pure noise gives no candidate above the default threshold for at least 19 of 20 seeds")
    func noise() throws {
        var falseAlarms: [String] = []
        for seed in 1...20 {
            var o = SimulatedObservation()
            o.channels = 32
            o.foff = -4
            o.samples = 1 << 16
            o.seed = UInt64(seed)
            let report = try SearchFixtures.search(o, SearchFixtures.configuration(dmMax: 150))
            #expect(report.dmPlan.trials.count > 50)
            if !report.candidates.isEmpty { falseAlarms.append("seed \(seed): \(SearchFixtures.summary(report))") }
        }
        #expect(falseAlarms.count <= 1, "\(falseAlarms)")
    }
}
