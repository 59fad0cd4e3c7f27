import CoordinatorCore
import CoordinatorService
import CoordinatorStore
import CoordinatorTestSupport
import Foundation
import PulsarSearch
import Testing
import WorkUnits
import XunxingClient
import XunxingProtocol
import XunxingSupport

/// A preset that asks every unit for the FFT, the FFA and the single-pulse search, end to end:
/// split, searched by hosts, validated, merged, listed and shown.
@Suite("Coordinator: FFT, FFA and single-pulse searches in work units", .serialized)
struct SearchModesTests {
    /// The presets directory with `tiny` asking for all three searches.
    static func presets() throws -> URL {
        let presets = FileManager.default.temporaryDirectory.appendingPathComponent("presets-\(UUID())")
        try FileManager.default.copyItem(at: CoordinatorFixture.packageRoot.appendingPathComponent("workunits"), to: presets)
        let file = presets.appendingPathComponent("tiny.json")
        var preset = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as! [String: Any]
        preset["modes"] = ["fft", "ffa", "single-pulse"]
        // Only what differs from the defaults.
        preset["ffa"] = ["periodMax": 5]
        preset["singlePulse"] = ["maxWidth": 0.05, "maxHitsPerSeries": 100]
        try JSONSerialization.data(withJSONObject: preset).write(to: file)
        return presets
    }

    /// 64 channels of 5 MHz and 512 us, 16.8 s: a 1.7 s pulsar with a 1% duty cycle at DM 100 (its
    /// 80 ms sweep across the band makes its DM measurable) and one burst at 9 s, DM 200 (searched to
    /// DM 300, so that the burst spans a part of the DM range only).
    static func observation(_ f: CoordinatorFixture) throws -> String {
        var o = SimulatedObservation()
        o.channels = 64
        o.foff = -5
        o.tsamp = 512e-6
        o.samples = 1 << 15
        o.seed = 77
        o.pulsars = [InjectedPulsar(period: 1.7, dm: 100, dutyCycle: 0.01, snr: 25)]
        o.bursts = [InjectedBurst(time: 9, dm: 200, width: 2e-3, snr: 25)]
        let path = f.directory.appendingPathComponent("modes.fil").path
        try FileManager.default.createDirectory(at: f.directory, withIntermediateDirectories: true)
        try Simulator.writeFilterbank(o, to: path)
        return path
    }

    @Test("units carry the three searches; the burst is one event though several units saw it, the FFA's detections are merged, and the page plots them")
    func allThreeSearches() async throws {
        let presets = try Self.presets()
        defer { try? FileManager.default.removeItem(at: presets) }
        try await CoordinatorFixture.with({ $0.presetsDirectory = presets.path }) { f in
            let astronomer = try await f.astronomer()
            let dataset = try await f.submitAndSplit(try Self.observation(f), astronomer: astronomer, dmMax: 300)
            let units = try await f.coordinator.store.read { try await $0.workUnits(dataset: dataset.id) }
            #expect(units.count >= 3, "\(units.count) units")
            for unit in units {
                let header = try WorkUnitPayload.readHeader(path: unit.payloadPath)
                #expect(header.ffa?.periodMax == 5 && header.singlePulse?.maxHitsPerSeries == 100, "unit \(unit.seq)")
            }
            let a = try await f.host(name: "a"), b = try await f.host(name: "b")
            async let ra = a.work()
            async let rb = b.work()
            _ = try await (ra, rb)
            try await f.waitUntil(timeout: 60, "complete") { try await onThread { try astronomer.dataset(dataset.id).state } == "complete" }

            // The canonical results: hits of the burst from at least two units, FFA detections of the pulsar.
            let results = try await f.coordinator.store.read { tx -> [WorkUnitResult] in
                var out: [WorkUnitResult] = []
                for unit in try await tx.workUnits(dataset: dataset.id) {
                    if let id = unit.canonicalReplica, let r = try await tx.replica(id: id), let json = r.result {
                        out.append(try WireCoding.decoder().decode(WorkUnitResult.self, from: Data(json.utf8)))
                    }
                }
                return out
            }
            let burstUnits = results.filter { ($0.singlePulseHits ?? []).contains { abs($0.time - 9) < 0.05 && $0.snr > 8 } }
            #expect(burstUnits.count >= 2, "the burst should reach across a unit edge: \(burstUnits.count) unit(s) saw it")
            #expect(results.flatMap(\.candidates).contains { $0.method == .ffa && abs(1 / $0.frequency - 1.7) < 0.01 },
                    "no unit's FFA found the pulsar")

            // One burst event, at the burst's DM and time; the pulsar on top of the candidates.
            let events = try await onThread { try astronomer.singlePulseEvents(dataset.id) }
            let bursts = events.filter { $0.rfi == nil && abs($0.timeSeconds - 9) < 0.05 }
            #expect(bursts.count == 1, "the burst is \(bursts.count) events: \(bursts.map { ($0.timeSeconds, $0.dm, $0.snr, $0.members, $0.dmMin, $0.dmMax, $0.timeMinSeconds, $0.timeMaxSeconds) })")
            if let burst = bursts.first {
                #expect(abs(burst.dm - 200) < 15 && burst.snr > 10, "burst at DM \(burst.dm), S/N \(burst.snr)")
                let plots = try #require(burst.diagnostics)
                let peak = plots.profile.indices.max { plots.profile[$0] < plots.profile[$1] }!
                #expect(abs(plots.times[peak] - 9) < 0.01, "the profile peaks at \(plots.times[peak]) s")
            }
            let listed = try await onThread { try astronomer.candidates(dataset.id) }
            let top = try #require(listed.first)
            #expect(abs(top.periodS - 1.7) / 1.7 < 2e-3 && abs(top.dm - 100) <= 15,
                    "top: \(listed.prefix(5).map { ($0.periodS, $0.dm, $0.sigma, $0.method?.rawValue ?? "", $0.snrFolded) })")

            // The page: the DM-time scatter with a point per event and the burst's three plots.
            _ = try await onThread { try astronomer.publish(dataset.id) }
            let page = try await onThread { try f.httpGet("/datasets/\(dataset.id)") }
            let scatter = try #require(page.components(separatedBy: "id=\"sp-dm-time\"").dropFirst().first?.components(separatedBy: "</figure>").first)
            #expect(scatter.components(separatedBy: "<circle").count - 1 == events.count, "one point per event")
            #expect(page.contains("id=\"sp-burst-1\"") && page.components(separatedBy: "id=\"sp-burst-1\"")[1].components(separatedBy: "<svg").count - 1 >= 3)
            // And in a real browser: the scatter's points and the burst's plots are in the rendered
            // page, with no console message.
            let (dom, console) = try await renderInBrowser(f.baseURL + "/datasets/\(dataset.id)")
            let rendered = try #require(dom.components(separatedBy: "id=\"sp-dm-time\"").dropFirst().first?.components(separatedBy: "</figure>").first)
            #expect(rendered.components(separatedBy: "<circle").count - 1 == events.count)
            #expect(dom.contains("id=\"sp-burst-1\"") && console.isEmpty, "\(console)")
        }
    }

    @Test("a host that hides the bursts it found disagrees with honest ones: its results are refused, theirs stand")
    func hiddenBurstsAreInvalid() async throws {
        let presets = try Self.presets()
        defer { try? FileManager.default.removeItem(at: presets) }
        try await CoordinatorFixture.with({ $0.presetsDirectory = presets.path }) { f in
            let astronomer = try await f.astronomer()
            // To DM 150: the pulsar's single pulses (S/N 8-9 at DM 100) are the strong hits hidden.
            let dataset = try await f.submitAndSplit(try Self.observation(f), astronomer: astronomer, dmMax: 150)
            let count = dataset.units.total
            let honest = try await f.host(name: "honest"), hider = try await f.host(name: "hider")
            let second = try await f.host(name: "second")
            // One replica of every unit each (a host never gets two of a unit), without waiting for more.
            let hidden = try await hider.work(limit: count, behaviour: .hideBursts)
            // The honest host's results disagree with the hider's where it hid a burst; a second
            // honest host breaks the tie.
            let honestOutcomes = try await honest.work(limit: count) + second.work()
            // Units without a strong hit are identical; the ones with the burst are refused, and the
            // honest host's results for them stand.
            let invalid = try await f.coordinator.store.read { try await $0.replicas(host: hider.hostID, state: .invalid) }
            let valid = try await f.coordinator.store.read {
                try await $0.replicas(host: honest.hostID, state: .valid) + $0.replicas(host: second.hostID, state: .valid)
            }
            #expect(!invalid.isEmpty, "hider outcomes \(hidden), honest \(honestOutcomes)")
            let validUnits = Set(valid.map(\.workUnitId))
            #expect(invalid.allSatisfy { validUnits.contains($0.workUnitId) }, "every refused unit has the honest result")
        }
    }
}
