import CoordinatorCore
import CoordinatorStore
import CoordinatorTestSupport
import Foundation
import PulsarSearch
import Testing
import XunxingClient
import XunxingProtocol
import XunxingSupport

/// A coordinator with the ATNF catalogue: a dataset pointed at the Crab re-detects it; the API,
/// the command line's PRESTO files and the pages tell it apart from a new candidate.
@Suite("Coordinator: known pulsars and PRESTO output", .serialized)
struct KnownPulsarPagesTests {
    /// 64 channels of 5 MHz and 512 us, 16.8 s at the Crab's position on MJD 60000: the Crab at its
    /// predicted period and DM, and an uncatalogued 0.4321 s pulsar at DM 30.
    static func observation(_ f: CoordinatorFixture, crabPeriod: Double) throws -> String {
        var o = SimulatedObservation()
        o.channels = 64
        o.foff = -5
        o.tsamp = 512e-6
        o.samples = 1 << 15
        o.seed = 11
        o.raDegrees = (5 + 34 / 60.0 + 31.973 / 3600) * 15
        o.decDegrees = 22 + 52.06 / 3600
        o.startMJD = 60000
        o.pulsars = [InjectedPulsar(period: crabPeriod, dm: 56.77, dutyCycle: 0.05, snr: 30),
                     InjectedPulsar(period: 0.4321, dm: 30, dutyCycle: 0.03, snr: 25)]
        let path = f.directory.appendingPathComponent("crab.fil").path
        try FileManager.default.createDirectory(at: f.directory, withIntermediateDirectories: true)
        try Simulator.writeFilterbank(o, to: path)
        return path
    }

    @Test("the Crab is marked J0534+2200 (1/1) in the API and on the pages, apart from the new pulsar; status reports the observation; candidates --format presto writes ACCEL files sifting can read")
    func crabIsKnown() async throws {
        let catalogue = CoordinatorFixture.dataPath("psrcat.db")
        let crab = try #require(try PulsarCatalogue.read(from: catalogue).pulsars.first { $0.name == "J0534+2200" })
        let crabPeriod = 1 / crab.frequency(atMJD: 60000)!.value
        try await CoordinatorFixture.with({ $0.cataloguePath = catalogue }) { f in
            let token = try await f.coordinator.core.accounts.createAccount(role: .astronomer, name: "crab-astronomer").secret
            let astronomer = CoordinatorClient(baseURL: f.baseURL, secret: token)
            let dataset = try await f.submitAndSplit(try Self.observation(f, crabPeriod: crabPeriod), astronomer: astronomer, dmMax: 100)
            let observation = try #require(dataset.observation, "the split records the observation")
            #expect(abs(observation.info.mjd - 60000) < 1e-9 && observation.samples == 1 << 15 && observation.sampleTime == 512e-6)
            #expect(abs((observation.info.raDegrees ?? 0) - 83.6332) < 1e-3 && abs((observation.info.decDegrees ?? 0) - 22.0145) < 1e-3)
            let a = try await f.host(name: "a"), b = try await f.host(name: "b")
            async let ra = a.work()
            async let rb = b.work()
            _ = try await (ra, rb)
            try await f.waitUntil(timeout: 60, "complete") { try await onThread { try astronomer.dataset(dataset.id).state } == "complete" }

            let listed = try await onThread { try astronomer.candidates(dataset.id) }
            let summary = listed.prefix(6).map { ($0.periodS, $0.dm, $0.sigma, $0.knownPulsar?.name ?? "-") }
            let found = try #require(listed.first { abs($0.periodS - crabPeriod) / crabPeriod < 1e-3 }, "\(summary)")
            #expect(found.knownPulsar?.name == "J0534+2200" && found.knownPulsar?.ratio == "1/1", "\(summary)")
            let fresh = try #require(listed.first { abs($0.periodS - 0.4321) / 0.4321 < 1e-3 }, "\(summary)")
            #expect(fresh.knownPulsar == nil)
            // Every harmonic of the Crab that was kept is marked with its ratio; nothing else is the Crab.
            for c in listed where c.knownPulsar != nil {
                #expect(c.knownPulsar?.name == "J0534+2200")
                let ratio = Double(c.knownPulsar!.harmonic) / Double(c.knownPulsar!.fraction)
                #expect(abs(c.frequencyHz / ratio - 1 / crabPeriod) < 2.5 / 16.8, "\(c.frequencyHz) Hz at \(c.knownPulsar!.ratio)")
            }

            // PRESTO's files from the command line: the Crab's ACCEL file has it, with its note.
            let outDir = f.directory.appendingPathComponent("presto").path
            _ = try await onThread { try astronomer.publish(dataset.id) }
            let run = try await BuiltExecutable.run("xunxing", ["candidates", dataset.id, "--format", "presto", "--output-dir", outDir],
                                              environment: ["XUNXING_COORDINATOR": f.baseURL, "XUNXING_TOKEN": token])
            #expect(run.status == 0, "\(run.stderr)")
            let crabFile = try #require(run.stdout.split(separator: "\n").first { $0.contains(String(format: "_DM%.2f_ACCEL_", found.dm)) })
            let entries = try PrestoAccelFile.parse(try String(contentsOfFile: String(crabFile), encoding: .utf8), name: String(crabFile))
            let crabEntry = try #require(entries.first { abs($0.frequencyHz - found.frequencyHz) < 1e-3 && $0.notes == "J0534+2200 1/1" }, "\(entries)")
            // The workers measured each summed harmonic; maximised one by one, they hold at least
            // the detection's summed power (less the rounding of the printed values).
            #expect(crabEntry.harmonicPowers.count == crabEntry.harmonics && crabEntry.harmonicPhases.count == crabEntry.harmonics)
            #expect(crabEntry.harmonicPowers.reduce(0, +) >= 0.95 * crabEntry.summedPower, "\(crabEntry)")

            // The pages: new candidates first, then the re-detection, and its candidate page says so.
            let page = try await onThread { try f.httpGet("/datasets/\(dataset.id)") }
            let newSection = try #require(page.components(separatedBy: "id=\"new-candidates\"").dropFirst().first?.components(separatedBy: "<h2").first)
            let knownSection = try #require(page.components(separatedBy: "id=\"known-pulsars\"").dropFirst().first?.components(separatedBy: "<h2").first)
            #expect(knownSection.contains("J0534+2200") && !newSection.contains("J0534+2200"))
            #expect(page.range(of: "id=\"new-candidates\"")!.lowerBound < page.range(of: "id=\"known-pulsars\"")!.lowerBound)
            #expect(newSection.contains(String(format: "%.4f", fresh.periodS * 1000)), "the new pulsar is listed as new")
            let rank = try #require(listed.firstIndex(of: found))
            let candidatePage = try await onThread { try f.httpGet("/datasets/\(dataset.id)/candidates/\(rank)") }
            #expect(candidatePage.contains("Known pulsar <b>J0534+2200</b> (the pulsar itself)"))
            // The strongest were folded again and scored: the stored score is the diagnostics', and
            // the candidate page shows the six panels with the header facts.
            let diagnosed = listed.filter { $0.diagnostics != nil }
            #expect(diagnosed.count == min(5, listed.count) && diagnosed.allSatisfy { $0.quality != nil })
            for c in diagnosed { #expect(c.quality == CandidateQuality(c.diagnostics!)) }
            #expect((found.quality?.score ?? 0) > 0.5 && (fresh.quality?.score ?? 0) > 0.5, "\(String(describing: found.quality)) \(String(describing: fresh.quality))")
            let crabDiagnostics = try #require(found.diagnostics)
            #expect(abs(crabDiagnostics.period - crabPeriod) <= 3 * crabDiagnostics.periodUncertainty + 1e-9, "\(crabDiagnostics.period) ± \(crabDiagnostics.periodUncertainty)")
            #expect(abs(crabDiagnostics.dm - 56.77) <= max(3 * crabDiagnostics.dmUncertainty, 1))
            let foldDOM = try await renderInBrowser(f.baseURL + "/datasets/\(dataset.id)/candidates/\(rank)")
            for id in ["fold-profile", "fold-dm", "fold-time-phase", "fold-frequency-phase", "fold-period", "fold-ppdot"] {
                #expect(foldDOM.dom.contains("id=\"\(id)\"") , "panel \(id)")
            }
            #expect(foldDOM.dom.contains("Quality <b>") && foldDOM.dom.contains("P    = ") && foldDOM.console.isEmpty, "\(foldDOM.console)")
            let (dom, console) = try await renderInBrowser(f.baseURL + "/datasets/\(dataset.id)")
            #expect(dom.contains("Known pulsars re-detected") && dom.contains("New candidates") && console.isEmpty, "\(console)")
        }
    }
}
