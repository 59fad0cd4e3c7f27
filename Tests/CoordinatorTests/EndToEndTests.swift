import CoordinatorCore
import CoordinatorService
import CoordinatorTestSupport
import CoordinatorStore
import Foundation
import PulsarSearch
import WorkUnits
import Testing
import XunxingClient
import XunxingProtocol
import XunxingSupport

@Suite("Coordinator end to end", .serialized)
struct EndToEndTests {
    @Test("tutorial.fil: split, searched by two hosts, every unit validated by two, the 250 ms pulsar on top", arguments: Backend.allCases)
    func tutorialEndToEnd(backend: Backend) async throws {
        // Adaptive replication off: this run must show two hosts per unit.
        let fixture = try await CoordinatorFixture.start(backend: backend) { $0.trustThreshold = 1_000_000 }
        do {
            let astronomer = try await fixture.astronomer()
            let file = CoordinatorFixture.dataPath("tutorial.fil")
            let submitted = try await onThread {
                try astronomer.submit(file: file, name: "tutorial", preset: "tiny", dmMax: nil, accelMax: nil, sha256: nil)
            }
            #expect(submitted.state == "splitting")
            let hostA = try await fixture.host(name: "alpha")
            let hostB = try await fixture.host(name: "beta")
            async let a = hostA.work()
            async let b = hostB.work()
            let (outcomesA, outcomesB) = try await (a, b)
            #expect(!outcomesA.isEmpty && !outcomesB.isEmpty)
            #expect(!(outcomesA + outcomesB).contains("invalid"))

            try await fixture.waitUntil(timeout: 60, "dataset complete") {
                try await onThread { try astronomer.dataset(submitted.id).state } == "complete"
            }
            let status = try await onThread { try astronomer.dataset(submitted.id) }
            #expect(status.units.total > 3)
            #expect(status.units.validated == status.units.total)
            #expect(status.units.inProgress == 0 && status.units.error == 0)

            // Every unit validated by two different hosts of two different volunteers.
            let units = try await fixture.coordinator.store.transaction { try await $0.workUnits(dataset: submitted.id) }
            for unit in units {
                let replicas = try await fixture.coordinator.store.transaction { try await $0.replicas(workUnit: unit.id) }
                let valid = replicas.filter { $0.state == ReplicaState.valid }
                #expect(valid.count == 2, "unit \(unit.seq): \(replicas.map(\.state))")
                #expect(Set(valid.compactMap(\.hostId)).count == 2)
                #expect(Set(valid.compactMap(\.accountId)).count == 2)
            }

            // Each volunteer's hours are the estimates of the units their host validated.
            for host in [hostA, hostB] {
                let (account, expected) = try await fixture.coordinator.store.transaction { tx -> (String, Double) in
                    var total = 0.0
                    for unit in units {
                        let valid = try await tx.replicas(workUnit: unit.id).filter { $0.state == ReplicaState.valid }
                        if valid.contains(where: { $0.hostId == host.hostID }) {
                            total += HoursLedger.creditedHours(unit: unit, valid: valid)
                        }
                    }
                    return (try await tx.host(id: host.hostID)!.accountId, total)
                }
                let profile = try await onThread { try CoordinatorClient(baseURL: fixture.baseURL).profile(volunteer: account) }
                #expect(abs(profile.hoursTotal - expected) < 1e-9)
            }

            // Results were decoded before the writer's transaction: inside it only when one arrived
            // in between (judging each unit's pair there would decode at least 2 per unit).
            let metrics = try await onThread { try fixture.httpGet("/metrics") }
            let inWriter = metrics.split(separator: "\n").first { $0.hasPrefix("xunxing_results_decoded_in_writer_total ") }
                .flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
            #expect(inWriter < Double(units.count), "\(inWriter) results decoded in the writer for \(units.count) units")

            let candidates = try await onThread { try astronomer.candidates(submitted.id) }
            let top = try #require(candidates.first)
            #expect(abs(top.periodS - 0.25) / 0.25 < 5e-4, "top: P=\(top.periodS) DM=\(top.dm)")
            #expect(abs(top.dm - 30) <= 5, "top: P=\(top.periodS) DM=\(top.dm)")
        } catch {
            await fixture.stop()
            throw error
        }
        await fixture.stop()
    }

    @Test("a PSRFITS dataset is checked, stored, split, searched and merged like a SIGPROC one: the pulsar on top")
    func psrfitsDataset() async throws {
        try await CoordinatorFixture.with { f in
            let astronomer = try await f.astronomer()
            let dataset = try await f.submitAndSplit(try f.simulatedObservation(psrfits: true), astronomer: astronomer)
            #expect(dataset.state == "searching" && dataset.units.total >= 1, "\(dataset)")
            let stored = try #require(try await f.coordinator.store.read { try await $0.dataset(id: dataset.id) })
            #expect(stored.filePath.hasSuffix(".fits") && abs(stored.duration - Double(1 << 15) * 512e-6) < 1e-9)
            let a = try await f.host(name: "a"), b = try await f.host(name: "b")
            async let ra = a.work()
            async let rb = b.work()
            _ = try await (ra, rb)
            try await f.waitUntil(timeout: 60, "complete") { try await onThread { try astronomer.dataset(dataset.id).state } == "complete" }
            let top = try #require(try await onThread { try astronomer.candidates(dataset.id) }.first)
            #expect(abs(top.periodS - 0.1234) / 0.1234 < 1e-3 && abs(top.dm - 20) <= 5, "top: P=\(top.periodS) DM=\(top.dm)")
            // A FITS file that is not PSRFITS is refused before anything is stored, naming the keyword.
            let image = f.directory.appendingPathComponent("image.fits").path
            var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try f.simulatedObservation(seed: 2, psrfits: true))))
            let card = Array("FITSTYPE= 'PSRFITS '".utf8)
            let at = try #require((0..<(bytes.count - card.count)).first { Array(bytes[$0..<($0 + card.count)]) == card })
            bytes.replaceSubrange(at..<(at + card.count), with: Array("FITSTYPE= 'IMAGE   '".utf8))
            try Data(bytes).write(to: URL(fileURLWithPath: image))
            let refused = await #expect(throws: CoordinatorClientError.self) {
                try await onThread { try astronomer.submit(file: image, name: "image", preset: "tiny", dmMax: nil, accelMax: nil, sha256: nil) }
            }
            #expect(refused?.status == 400 && "\(refused!)".contains("FITSTYPE") && "\(refused!)".contains("image: "), "\(String(describing: refused))")
            #expect(try await onThread { try astronomer.datasets() }.count == 1)
        }
    }

    @Test("a preset file changed after the split changes nothing for that dataset: its results are merged with the plan it was split with")
    func presetChangedAfterSplit() async throws {
        let presets = FileManager.default.temporaryDirectory.appendingPathComponent("presets-\(UUID())")
        try FileManager.default.copyItem(at: CoordinatorFixture.packageRoot.appendingPathComponent("workunits"), to: presets)
        defer { try? FileManager.default.removeItem(at: presets) }
        let fixture = try await CoordinatorFixture.start { $0.presetsDirectory = presets.path }
        do {
            let astronomer = try await fixture.astronomer()
            // No DM range of its own: the preset's (none: the default for the observation) decides it.
            let submitted = try await onThread {
                try astronomer.submit(file: CoordinatorFixture.dataPath("tutorial.fil"), name: "tutorial", preset: "tiny",
                                      dmMax: nil, accelMax: nil, sha256: nil)
            }
            try await fixture.waitUntil(timeout: 30, "split") { try await onThread { try astronomer.dataset(submitted.id).state } != "splitting" }
            let dataset = try await onThread { try astronomer.dataset(submitted.id) }
            let stored = try #require(try await fixture.coordinator.store.read { try await $0.dataset(id: dataset.id) }?.splitPlan)
            let plan = try WireCoding.decoder().decode(DatasetSplitPlan.self, from: Data(stored.utf8))
            #expect(plan.preset.name == "tiny" && plan.preset.sigmaThreshold == 4 && plan.search.plan.trials.count == dataset.dmTrials)

            // The operator edits the preset: a DM range that ends at 5 and a threshold nothing reaches.
            let file = presets.appendingPathComponent("tiny.json")
            var changed = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as! [String: Any]
            changed["dmMax"] = 5
            changed["sigmaThreshold"] = 40
            try JSONSerialization.data(withJSONObject: changed).write(to: file)
            await fixture.stopServer()
            try await fixture.restartServer(anyPort: true)
            #expect(fixture.coordinator.presets["tiny"]?.sigmaThreshold == 40)
            let client = CoordinatorClient(baseURL: fixture.baseURL, secret: astronomer.secret)

            let hostA = try await fixture.host(name: "alpha"), hostB = try await fixture.host(name: "beta")
            async let a = hostA.work()
            async let b = hostB.work()
            _ = try await (a, b)
            try await fixture.waitUntil(timeout: 60, "dataset complete") {
                try await onThread { try client.dataset(dataset.id).state } == "complete"
            }
            // Merged with the stored plan: the pulsar at DM 30 is there (the edited preset's plan
            // ends at DM 5 and its threshold would have dropped every detection).
            let top = try #require(try await onThread { try client.candidates(dataset.id) }.first)
            #expect(abs(top.periodS - 0.25) / 0.25 < 5e-4 && abs(top.dm - 30) <= 5, "top: P=\(top.periodS) DM=\(top.dm)")
        } catch {
            await fixture.stop()
            throw error
        }
        await fixture.stop()
    }
}
