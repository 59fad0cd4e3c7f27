import CoordinatorStore
import CoordinatorTestSupport
import Foundation
import Synchronization
import Testing

/// The store's read path: a snapshot that neither waits for the writer nor holds it up, and that
/// refuses to write.
@Suite("Store reads beside the writer")
struct StoreReadTests {
    func open(_ backend: Backend) async throws -> (any SQLStorage, () -> Void) {
        switch backend {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("store-read-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            return (try await SQLiteStorage.open(path: directory + "/coordinator.sqlite"), { try? FileManager.default.removeItem(atPath: directory) })
        case .postgres:
            return (try await PostgresStorage.connect(url: try PostgresTestCluster.shared.makeDatabase()), {})
        }
    }

    @Test("a read runs while a write transaction is open, sees the last commit only, and cannot write", arguments: Backend.allCases)
    func readBesideWriter(backend: Backend) async throws {
        let (store, cleanup) = try await open(backend)
        defer { cleanup() }
        try await store.transaction { tx in
            try await tx.run("CREATE TABLE read_probe (x INTEGER NOT NULL)")
            try await tx.run("INSERT INTO read_probe (x) VALUES (1)")
        }
        #expect(try await store.read { try await $0.count("SELECT COUNT(*) AS n FROM read_probe") } == 1)

        // A writer inserts a row and then keeps its transaction open until the read is done (or
        // 30 s pass). A read that waited for the writer would only finish after the timeout.
        let readDone = Atomic<Bool>(false)
        let writer = Task {
            try await store.transaction { tx -> Bool in
                try await tx.run("INSERT INTO read_probe (x) VALUES (2)")
                let end = Date().addingTimeInterval(30)
                while !readDone.load(ordering: .acquiring) && Date() < end { try await Task.sleep(for: .milliseconds(10)) }
                return readDone.load(ordering: .acquiring)
            }
        }
        try await Task.sleep(for: .milliseconds(200))  // let the writer take its lock
        let seen = try await store.read { try await $0.count("SELECT COUNT(*) AS n FROM read_probe") }
        readDone.store(true, ordering: .releasing)
        #expect(try await writer.value, "the read finished only after the writer gave up waiting for it")
        #expect(seen == 1, "the read saw the open transaction's row")
        #expect(try await store.read { try await $0.count("SELECT COUNT(*) AS n FROM read_probe") } == 2)

        await #expect(throws: (any Error).self) {
            try await store.read { try await $0.run("INSERT INTO read_probe (x) VALUES (3)") }
        }
        #expect(try await store.transaction { try await $0.count("SELECT COUNT(*) AS n FROM read_probe") } == 2)
        try await store.close()
    }
}
