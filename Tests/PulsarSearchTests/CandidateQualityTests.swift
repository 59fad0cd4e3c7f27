import Foundation
@testable import PulsarSearch
import Testing

/// The quality score against simulated pulsars and simulated interference folded the same way.
@Suite("Candidate quality: pulsars above interference")
struct CandidateQualityTests {
    static let nch = 64, nt = 1 << 17, tsamp = 256e-6
    static let frequencies = (0..<nch).map { 1500 - 4 * Double($0) }

    /// Gaussian noise plus `signal(channel, sample)`.
    static func spectra(seed: UInt64, _ signal: (Int, Int) -> Double) -> InMemorySpectra {
        var rng = SeededGenerator(seed: seed)
        var data = [Float](repeating: 0, count: nch * nt)
        for t in 0..<nt {
            for c in 0..<nch { data[t * nch + c] = Float(rng.gaussian() + signal(c, t)) }
        }
        return InMemorySpectra(data: data, channelFrequencies: frequencies, sampleTime: tsamp)
    }

    /// A pulse train of `period` and `duty` at `dm`, amplitude `a` per channel, on while `on(t)`.
    static func train(period: Double, dm: Double, duty: Double, amplitude a: Double, channels: Range<Int> = 0..<nch,
                      on: @escaping (Double) -> Bool = { _ in true }) -> (Int, Int) -> Double {
        let delays = frequencies.map { Dispersion.delay(dm: dm, frequency: $0, reference: frequencies[0]) }
        return { c, t in
            guard channels.contains(c) else { return 0 }
            let time = Double(t) * tsamp - delays[c]
            guard on(time) else { return 0 }
            var phase = (time / period).truncatingRemainder(dividingBy: 1)
            if phase < 0 { phase += 1 }
            return phase < duty ? a : 0
        }
    }

    @Test("three pulsars score above three kinds of interference, each failing the test it should (time, frequency, dispersion)")
    func pulsarsAboveInterference() throws {
        let pulsars: [(Double, Double, Double)] = [(0.0731, 60, 0.03), (0.5123, 150, 0.05), (0.0123, 25, 0.08)]
        var pulsarScores: [Double] = []
        for (i, (p, dm, duty)) in pulsars.enumerated() {
            let source = Self.spectra(seed: UInt64(10 + i), Self.train(period: p, dm: dm, duty: duty, amplitude: 0.25))
            let q = CandidateQuality(try FoldDiagnostics.measure(source, period: p, dm: dm))
            pulsarScores.append(q.score)
            #expect(q.score > 0.6, "pulsar \(p) s at DM \(dm): \(q)")
        }
        // Narrowband periodic interference: a 20 Hz pulse train in 3 channels, seen at DM 30.
        let narrow = CandidateQuality(try FoldDiagnostics.measure(
            Self.spectra(seed: 20, Self.train(period: 0.05, dm: 0, duty: 0.1, amplitude: 1.5, channels: 20..<23)), period: 0.05, dm: 30))
        #expect(narrow.frequencyPersistence < 0.3, "\(narrow)")
        // Intermittent: a dispersed-looking train on for the first 3 s only.
        let brief = CandidateQuality(try FoldDiagnostics.measure(
            Self.spectra(seed: 21, Self.train(period: 0.1, dm: 40, duty: 0.05, amplitude: 1, on: { $0 < 3 })), period: 0.1, dm: 40))
        #expect(brief.timePersistence < 0.3, "\(brief)")
        // Undispersed broadband periodic interference (mains-like, 50 Hz), found at DM 0.3.
        let mains = CandidateQuality(try FoldDiagnostics.measure(
            Self.spectra(seed: 22, Self.train(period: 0.02, dm: 0, duty: 0.2, amplitude: 0.3)), period: 0.02, dm: 0.3))
        #expect(mains.dispersion < 0.3, "\(mains)")
        let interference = [narrow.score, brief.score, mains.score]
        #expect(pulsarScores.min()! > interference.max()!, "pulsars \(pulsarScores), interference \(interference)")
    }
}
