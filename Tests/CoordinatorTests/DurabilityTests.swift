import CoordinatorCore
import CoordinatorService
import CoordinatorStore
import CoordinatorTestSupport
import Foundation
import Testing
import XunxingProtocol

/// Files and rows after a crash: durable publishing, and the start-up check that removes files no
/// row names and fails datasets whose files are gone.
@Suite("Durable files and the start-up file check")
struct DurabilityTests {
    func write(_ path: String, _ text: String = "x") throws {
        try FileManager.default.createDirectory(atPath: DurableFiles.directory(of: path), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    @Test("publish renames a fsynced file into place; a missing file fails naming its path and changes nothing")
    func publish() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("durable-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try write(directory + "/a.tmp", "payload")
        try DurableFiles.publish(directory + "/a.tmp", as: directory + "/a")
        #expect(!FileManager.default.fileExists(atPath: directory + "/a.tmp"))
        #expect(try String(contentsOfFile: directory + "/a", encoding: .utf8) == "payload")
        #expect(throws: DurableFiles.Failure.self) { try DurableFiles.publish(directory + "/missing.tmp", as: directory + "/b") }
        do {
            try DurableFiles.publish(directory + "/missing.tmp", as: directory + "/b")
        } catch {
            #expect("\(error)".contains("missing.tmp"))
        }
        #expect(!FileManager.default.fileExists(atPath: directory + "/b"))
    }

    @Test("a restart removes files no row names and fails a searching dataset whose filterbank is gone; the rest is untouched")
    func startUpCheck() async throws {
        try await CoordinatorFixture.with(backend: .sqlite, { $0.orphanGraceSeconds = 0 }) { f in
            let c = f.coordinator
            let data = f.directory.path
            let (owner, _) = try await c.core.accounts.createAccount(role: .astronomer, name: "owner")
            func record(_ id: String, state: DatasetState, file: String) -> DatasetRecord {
                DatasetRecord(
                    id: id, ownerId: owner, name: id, preset: "tiny", state: state, filePath: file, sha256: "", sizeBytes: 1,
                    dmMax: nil, accelMax: nil, dmTrials: 0, duration: 1, error: nil, createdAt: 0, completedAt: 0)
            }
            let kept = data + "/datasets/kept.fil", lost = data + "/datasets/lost.fil"
            try write(kept)
            let records = [record("kept", state: DatasetState.complete, file: kept), record("lost", state: DatasetState.searching, file: lost)]
            try await c.store.transaction { tx in
                for r in records { try await tx.insertDataset(r) }
            }
            let orphans = [
                data + "/datasets/orphan.fil", data + "/uploads/cut.part", data + "/payloads/nobody/unit.bin",
                data + "/payloads/kept/stray.partial", data + "/exports/volunteers.json.1.tmp",
            ]
            for path in orphans { try write(path) }
            await f.stopServer()
            try await f.restartServer(anyPort: true)
            for path in orphans { #expect(!FileManager.default.fileExists(atPath: path), "\(path) is still there") }
            #expect(!FileManager.default.fileExists(atPath: data + "/payloads/nobody"))
            #expect(FileManager.default.fileExists(atPath: kept))
            let states = try await f.coordinator.store.read { tx in
                (try await tx.dataset(id: "kept"), try await tx.dataset(id: "lost"))
            }
            #expect(states.0?.state == DatasetState.complete)
            #expect(states.1?.state == DatasetState.failed && states.1?.error?.contains(lost) == true, "\(String(describing: states.1))")
            // Nothing more to do the second time.
            #expect(try await f.coordinator.core.reconcileFiles() == FileReconciliation())
        }
    }

    @Test("units from before migration 2 (dm_count 0) get their DM range back from their payloads at start-up, on both databases", arguments: Backend.allCases)
    func legacyDMRange(backend: Backend) async throws {
        try await CoordinatorFixture.with(backend: backend) { f in
            let astronomer = try await f.astronomer()
            let dataset = try await f.submitAndSplit(try f.simulatedObservation(), astronomer: astronomer, dmMax: 400)
            let store = f.coordinator.store
            let original = try await store.read { try await $0.workUnits(dataset: dataset.id) }
            #expect(original.count > 1 && original.allSatisfy { $0.dmCount > 0 })
            #expect(Set(original.map(\.dmFirst)).count == original.count, "units hold different DM trials")
            // As a database migrated from version 1 has them.
            try await store.transaction { try await $0.run("UPDATE work_units SET dm_first = 0, dm_count = 0") }
            let report = try await f.coordinator.core.reconcileFiles()
            #expect(Set(report.repairedUnits) == Set(original.map(\.id)))
            let repaired = try await store.read { try await $0.workUnits(dataset: dataset.id) }
            for unit in repaired {
                let before = try #require(original.first { $0.id == unit.id })
                #expect(unit.dmFirst == before.dmFirst && unit.dmCount == before.dmCount, "unit \(unit.seq)")
            }
            #expect(try await f.coordinator.core.reconcileFiles().repairedUnits.isEmpty)
        }
    }

    @Test("within the grace period an orphan is kept (it may be another coordinator's work in progress)")
    func grace() async throws {
        try await CoordinatorFixture.with(backend: .sqlite) { f in
            let orphan = f.directory.path + "/datasets/fresh.fil"
            try write(orphan)
            let report = try await f.coordinator.core.reconcileFiles()
            #expect(report.removedOrphans.isEmpty && FileManager.default.fileExists(atPath: orphan))
        }
    }
}
