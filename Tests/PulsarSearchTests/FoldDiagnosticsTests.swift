import Foundation
@testable import PulsarSearch
import Testing

/// prepfold-style diagnostics, checked on the numbers from the data: the best values against what
/// was injected, within the uncertainties they state, and the panels against each other.
@Suite("Fold diagnostics: period, period derivative and DM searched as prepfold does")
struct FoldDiagnosticsTests {
    static func observation(period: Double, dm: Double, acceleration: Double = 0) -> InMemorySpectra {
        var o = SimulatedObservation()
        o.channels = 64
        o.foff = -4
        o.tsamp = 256e-6
        o.samples = 1 << 17
        o.nbits = 32
        o.seed = 5
        o.pulsars = [InjectedPulsar(period: period, dm: dm, dutyCycle: 0.03, snr: 40, acceleration: acceleration)]
        return Simulator.spectra(o)
    }

    @Test("folded a Fourier bin and 3 DM units off, the best period and DM are the injected ones within 3 stated sigma; the panels agree with each other")
    func recoversPeriodAndDM() throws {
        let period = 0.0731, dm = 60.0
        let source = Self.observation(period: period, dm: dm)
        let duration = Double(source.spectrumCount) * source.sampleTime
        let offPeriod = 1 / (1 / period + 1 / duration)
        let d = try FoldDiagnostics.measure(source, period: offPeriod, dm: dm - 3)
        #expect(abs(d.period - period) <= 3 * d.periodUncertainty && d.periodUncertainty < 2e-5 * period,
                "P \(d.period) ± \(d.periodUncertainty), injected \(period)")
        #expect(abs(d.dm - dm) <= max(3 * d.dmUncertainty, 0.5) && d.dmUncertainty < 2, "DM \(d.dm) ± \(d.dmUncertainty)")
        #expect(abs(d.periodDerivative) <= 3 * d.periodDerivativeUncertainty, "Pdot \(d.periodDerivative) ± \(d.periodDerivativeUncertainty)")
        #expect(d.snr > 15 && d.reducedChiSquare > 5)
        // The curves peak where the best values are.
        let dmPeak = try #require(d.dmCurve.max { $0.reducedChiSquare < $1.reducedChiSquare })
        #expect(abs(dmPeak.x - d.dm) < 1.5, "DM curve peaks at \(dmPeak.x)")
        let pPeak = try #require(d.periodCurve.max { $0.reducedChiSquare < $1.reducedChiSquare })
        // The best period lies between trials, within one of the curve's best (a step drifts the ends by a bin).
        let step = d.period * d.period / (Double(d.profile.count) * duration)
        #expect(abs(pPeak.x - d.period) <= 1.01 * step, "\(pPeak.x) against \(d.period), step \(step)")
        let planeMax = d.ppdot.flatMap { $0 }.max()!
        #expect(abs(Double(planeMax) - pPeak.reducedChiSquare) < 1e-4 * pPeak.reducedChiSquare, "the plane's best is the period curve's")
        #expect(d.reducedChiSquare > 0.8 * pPeak.reducedChiSquare, "the fold at the best values is as strong as the best trial's")
        // Phase against time and against frequency: the pulse in the same bin as the profile's peak,
        // in most sub-integrations and subbands (each row holds a fraction of the S/N).
        let nb = d.profile.count
        let peak = d.profile.indices.max { d.profile[$0] < d.profile[$1] }!
        func aligned(_ rows: [[Float]]) -> Double {
            let hits = rows.filter { row in
                let p = row.indices.max { row[$0] < row[$1] }!
                let distance = abs(p - peak)
                return min(distance, nb - distance) <= 2
            }
            return Double(hits.count) / Double(rows.count)
        }
        #expect(aligned(d.timePhase) > 0.7, "\(aligned(d.timePhase)) of sub-integrations aligned")
        #expect(aligned(d.frequencyPhase) > 0.7, "\(aligned(d.frequencyPhase)) of subbands aligned")
        #expect(d.timePhase.count == 32 && d.frequencyPhase.count == 32 && d.subbandFrequencies.first! > d.subbandFrequencies.last!)
        // Folded at the requested values without the search, the profile is weaker: the search did something.
        #expect(d.requestedPeriod == offPeriod && d.requestedDM == dm - 3)
    }

    @Test("an accelerated pulsar's period derivative is found within 3 stated sigma, away from 0")
    func recoversPeriodDerivative() throws {
        let period = 0.05, acceleration = 4000.0
        let source = Self.observation(period: period, dm: 40, acceleration: acceleration)
        let d = try FoldDiagnostics.measure(source, period: period, dm: 40)
        let expected = period * acceleration / AccelerationPlan.speedOfLight
        #expect(abs(d.periodDerivative - expected) <= 3 * d.periodDerivativeUncertainty && d.periodDerivativeUncertainty < expected / 3,
                "Pdot \(d.periodDerivative) ± \(d.periodDerivativeUncertainty), injected \(expected)")
        #expect(abs(d.period - period) <= 3 * d.periodUncertainty)
    }

    @Test("noise: no period stands out (reduced chi-square near 1), and a bad period is refused")
    func noise() throws {
        var o = SimulatedObservation()
        o.channels = 32
        o.samples = 1 << 15
        o.nbits = 32
        let d = try FoldDiagnostics.measure(Simulator.spectra(o), period: 0.0123, dm: 10)
        #expect(d.reducedChiSquare < 2.5, "\(d.reducedChiSquare)")
        #expect(throws: FormatError.self) { try FoldDiagnostics.measure(Simulator.spectra(o), period: 0, dm: 10) }
    }

    @Test("xunxing fold: the best values with uncertainties and the header facts printed, one SVG with the six panels, JSON with every number; bad input refused")
    func command() throws {
        let dir = try FormatsFixtures.temporaryDirectory()
        defer { FormatsFixtures.remove(dir) }
        let file = dir.appendingPathComponent("f.fil").path
        let sim = try CommandLine.run(["simulate", file, "--period", "0.0731", "--dm", "60", "--snr", "40", "--duty-cycle", "0.03",
                                       "--tsamp", "256e-6", "--samples", "131072", "--ra", "12:00:00", "--dec=-30:00:00"])
        #expect(sim.status == 0, "\(sim.stderr)")
        let plot = dir.appendingPathComponent("f.svg").path
        let png = dir.appendingPathComponent("f.png").path
        let run = try CommandLine.run(["fold", file, "--period", "0.07294", "--dm", "57", "--plot", plot, "--png", png])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("P    = 73.1") && run.stdout.contains("DM   = ") && run.stdout.contains("RA 180.0000° Dec -30.0000°"), "\(run.stdout)")
        let svg = try String(contentsOfFile: plot, encoding: .utf8)
        for id in ["fold-profile", "fold-dm", "fold-time-phase", "fold-frequency-phase", "fold-period", "fold-ppdot"] {
            #expect(svg.contains("<svg id=\"\(id)\""), "panel \(id)")
        }
        #expect(svg.contains("DM   = ") && svg.hasPrefix("<svg xmlns="))
        // The PNG: the signature, and an IHDR as large as the SVG says it is.
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: png)))
        #expect(Array(bytes.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] && bytes.count > 20_000, "\(bytes.count) bytes")
        func be32(_ at: Int) -> Int { bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
        let width = Int(svg.components(separatedBy: "width=\"")[1].prefix { $0.isNumber })!
        let height = Int(svg.components(separatedBy: "height=\"")[1].prefix { $0.isNumber })!
        #expect(String(decoding: bytes[12..<16], as: UTF8.self) == "IHDR" && be32(16) == width && be32(20) == height, "\(be32(16)) x \(be32(20))")
        let json = try CommandLine.run(["fold", file, "--period", "0.07294", "--dm", "57", "--format", "json"])
        let d = try JSONDecoder().decode(FoldDiagnostics.self, from: Data(json.stdout.utf8))
        #expect(abs(d.period - 0.0731) < 1e-5 && d.observation?.raDegrees == 180)
        let bad = try CommandLine.run(["fold", file, "--period", "-1", "--dm", "57"])
        #expect(bad.status != 0 && bad.stderr.contains("--period"), "\(bad.stderr)")
    }
}
