import CoordinatorStore
import CoordinatorTestSupport
import Foundation
import SQLKit
import Synchronization
import Testing
import XunxingHTTPClient
import XunxingSupport

/// The store's read path: a snapshot that neither waits for the writer nor holds it up, and that
/// refuses to write.
@Suite("Store reads beside the writer, and a bounded writer queue")
struct StoreReadTests {
    func open(_ backend: Backend) async throws -> (any SQLStorage, () -> Void) {
        switch backend {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("store-read-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            return (try await SQLiteStorage.open(path: directory + "/coordinator.sqlite"), { try? FileManager.default.removeItem(atPath: directory) })
        case .postgres:
            return (try await PostgresStorage.connect(url: try await onThread { try PostgresTestCluster.shared.makeDatabase() }), {})
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

    @Test("reads run side by side on the SQLite read pool: two reads that each wait for the other both finish")
    func readPool() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("store-pool-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try await SQLiteStorage.open(path: directory + "/coordinator.sqlite", readConnections: 2)
        final class Counter: Sendable { let value = Atomic<Int>(0) }
        let counter = Counter()
        // Each read holds its transaction until both have started (or 20 s pass): on one
        // connection the second could not start while the first waits.
        let together = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    try await store.read { _ in
                        counter.value.add(1, ordering: .acquiringAndReleasing)
                        let end = Date().addingTimeInterval(20)
                        while counter.value.load(ordering: .acquiring) < 2 && Date() < end { try await Task.sleep(for: .milliseconds(5)) }
                        return counter.value.load(ordering: .acquiring) == 2
                    }
                }
            }
            return try await group.reduce(true) { $0 && $1 }
        }
        #expect(together, "the two reads ran one after the other")
        try await store.close()
    }

    @Test("past the writer queue's limit a transaction fails at once with StorageOverloaded, and only those: counted")
    func boundedWriterQueue() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("store-queue-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try await SQLiteStorage.open(path: directory + "/coordinator.sqlite", writeQueueLimit: 4)
        try await store.transaction { try await $0.run("CREATE TABLE queue_probe (x INTEGER NOT NULL)") }
        let release = Atomic<Bool>(false)
        let holder = Task {
            try await store.transaction { tx in
                try await tx.run("INSERT INTO queue_probe (x) VALUES (0)")
                while !release.load(ordering: .acquiring) { try await Task.sleep(for: .milliseconds(5)) }
            }
        }
        try await Task.sleep(for: .milliseconds(200))
        // Ten more, one at a time so that the order is known: the first 4 wait, the other 6 are refused.
        var waiting: [Task<Void, Error>] = []
        var refused = 0
        for i in 1...10 {
            let task = Task { try await store.transaction { try await $0.run("INSERT INTO queue_probe (x) VALUES (\(bind: i))") } }
            try await Task.sleep(for: .milliseconds(30))
            waiting.append(task)
        }
        release.store(true, ordering: .releasing)
        try await holder.value
        var accepted = 0
        for task in waiting {
            do {
                try await task.value
                accepted += 1
            } catch is StorageOverloaded {
                refused += 1
            }
        }
        #expect(accepted == 4 && refused == 6, "accepted \(accepted), refused \(refused)")
        #expect(try await store.read { try await $0.count("SELECT COUNT(*) AS n FROM queue_probe") } == 5)
        try await store.close()
    }

    @Test("the writer's kept statements are prepared once: whole work cycles (request, report, validate, credit) prepare none again")
    func statementsPreparedOnce() async throws {
        try await CoordinatorFixture.with(backend: .sqlite) { f in
            let astronomer = try await f.astronomer()
            let dataset = try await f.submitAndSplit(try f.simulatedObservation(samples: 1 << 16), astronomer: astronomer, dmMax: 400)
            try #require(dataset.units.total >= 4, "\(dataset.units.total) units")
            let storage = try #require(f.coordinator.store as? SQLiteStorage)
            let first = try await f.host(name: "first"), second = try await f.host(name: "second")
            // One cycle each first, so that every statement of a cycle has been prepared once.
            _ = try await first.work(limit: 1)
            _ = try await second.work(limit: 1)
            let before = await storage.writerRepreparations()
            let done = try await first.work(limit: 3).count + second.work(limit: 3).count
            #expect(done == 6)
            let again = await storage.writerRepreparations() - before
            #expect(again == 0, "\(again) statements prepared again in 6 work cycles")
        }
    }

    @Test("SQLite rows decode into every record exactly as SQLKit's own snake_case decoding reads them, nulls and all")
    func directDecoderMatchesSQLKit() async throws {
        try await CoordinatorFixture.with(backend: .sqlite) { f in
            let astronomer = try await f.astronomer()
            _ = try await f.submitAndSplit(try f.simulatedObservation(samples: 1 << 16), astronomer: astronomer, dmMax: 400)
            let first = try await f.host(name: "first"), second = try await f.host(name: "second")
            _ = try await first.work(limit: 2)
            // Three of the four units: at least one of them is one the first did, so it validates.
            _ = try await second.work(limit: 3)
            func same<R: Decodable & Equatable & Sendable>(_ type: R.Type, _ table: String, atLeast: Int) async throws {
                let (direct, kit) = try await f.coordinator.store.transaction { tx in
                    let query = SQLQueryString("SELECT * FROM \(unsafeRaw: table) ORDER BY 1")
                    let kit = try await tx.all(query).map { try $0.decode(model: R.self, keyDecodingStrategy: .convertFromSnakeCase) }
                    return (try await tx.records(R.self, query), kit)
                }
                #expect(direct.count >= atLeast, "\(table): \(direct.count) rows")
                #expect(direct == kit, "\(table)")
            }
            try await same(AccountRecord.self, "accounts", atLeast: 3)
            try await same(HostRecord.self, "hosts", atLeast: 2)
            try await same(DatasetRecord.self, "datasets", atLeast: 1)
            try await same(WorkUnitRecord.self, "work_units", atLeast: 2)
            try await same(ReplicaRecord.self, "replicas", atLeast: 4)
            try await same(LedgerEntryRecord.self, "hours_ledger", atLeast: 1)
            // Both kinds of replica: reported (result, CPU time) and not yet sent (nulls).
            let replicas = try await f.coordinator.store.transaction { try await $0.records(ReplicaRecord.self, "SELECT * FROM replicas") }
            #expect(replicas.contains { $0.result != nil && $0.cpuSeconds != nil } && replicas.contains { $0.hostId == nil && $0.sentAt == nil })
        }
    }

    @Test("a coordinator whose writer queue is full answers a state change 503 with Retry-After, and still serves pages")
    func overloadedCoordinator() async throws {
        try await CoordinatorFixture.with(backend: .sqlite, { $0.writeQueueLimit = 1 }) { f in
            let store = f.coordinator.store
            final class Flags: Sendable {
                let release = Atomic<Bool>(false)
                let holding = Atomic<Bool>(false)
            }
            let flags = Flags()
            // Hold the writer: a transaction that waits inside until released. The background jobs
            // write too, so the first tries may find the queue of 1 full; try until one holds.
            var holder: Task<Void, Error>? = nil
            for _ in 0..<100 where !flags.holding.load(ordering: .acquiring) {
                let attempt = Task {
                    try await store.transaction { _ in
                        flags.holding.store(true, ordering: .releasing)
                        while !flags.release.load(ordering: .acquiring) { try await Task.sleep(for: .milliseconds(5)) }
                    }
                }
                try await Task.sleep(for: .milliseconds(100))
                if flags.holding.load(ordering: .acquiring) { holder = attempt }
            }
            defer { flags.release.store(true, ordering: .releasing) }
            let held = flags.holding.load(ordering: .acquiring)
            #expect(held, "never got hold of the writer")
            // Fill the queue of 1 (one of these, or a background job's transaction, takes the place).
            let queued = (0..<3).map { _ in Task { try? await store.transaction { _ in } } }
            try await Task.sleep(for: .milliseconds(100))
            let body = Data(#"{"name": "busy", "email": "busy@example.org"}"#.utf8)
            let answer = try await HTTPClient().send(
                "POST", url: f.baseURL + "/api/v1/volunteers", headers: ["Content-Type": "application/json"], body: body)
            #expect(answer.status == 503 && answer.header("Retry-After") == "1", "\(answer.status) \(String(decoding: answer.body, as: UTF8.self))")
            // Reads do not wait for the writer.
            let page = try await HTTPClient().send("GET", url: f.baseURL + "/datasets")
            #expect(page.status == 200)
            let leaderboard = try await HTTPClient().send("GET", url: f.baseURL + "/api/v1/leaderboard")
            #expect(leaderboard.status == 200)
            flags.release.store(true, ordering: .releasing)
            try await holder?.value
            for task in queued { await task.value }
            // Retried, as a client told to back off does: accepted once the queue has room (with a
            // queue of 1, a background job's transaction can still fill it for a moment).
            var retried = 0
            for _ in 0..<50 where retried != 201 {
                retried = try await HTTPClient().send(
                    "POST", url: f.baseURL + "/api/v1/volunteers", headers: ["Content-Type": "application/json"], body: body).status
                if retried == 503 { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(retried == 201)
        }
    }

    @Test("a database migrated past what this build knows is refused with a message, on both databases", arguments: Backend.allCases)
    func newerSchema(backend: Backend) async throws {
        let (store, cleanup) = try await open(backend)
        defer { cleanup() }
        try await store.transaction { try await $0.run("INSERT INTO schema_migrations (version, applied_at) VALUES (\(bind: Migrations.latest + 1), 0)") }
        do {
            try await Migrations.apply(to: store)
            Issue.record("a schema at version \(Migrations.latest + 1) was accepted")
        } catch let error as StorageError {
            #expect("\(error)".contains("version \(Migrations.latest + 1)"), "\(error)")
        }
        try await store.close()
    }

    @Test("states, roles and ledger kinds outside their Swift enums are refused by the database itself, on both databases", arguments: Backend.allCases)
    func typedColumns(backend: Backend) async throws {
        try await CoordinatorFixture.with(backend: backend) { f in
            let astronomer = try await f.astronomer()
            let dataset = try await f.submitAndSplit(try f.simulatedObservation(), astronomer: astronomer)
            let store = f.coordinator.store
            let unit = try #require(try await store.read { try await $0.workUnits(dataset: dataset.id) }.first)
            let replica = try #require(try await store.read { try await $0.replicas(workUnit: unit.id) }.first)
            #expect(Migrations.typedColumns.count == 6)
            // The ledger is append-only: its kind is tried on an insert below.
            for (table, column, allowed) in Migrations.typedColumns where table != "hours_ledger" {
                // Each allowed value is accepted (a no-op for the row's own), an unknown one is not.
                for value in ["bogus", allowed[0].uppercased()] {
                    do {
                        try await store.transaction { try await $0.run("UPDATE \(unsafeRaw: table) SET \(unsafeRaw: column) = \(bind: value)") }
                        Issue.record("\(table).\(column) = \(value) was accepted")
                    } catch {
                        let text = String(reflecting: error)
                        #expect(text.contains(column) || text.lowercased().contains("check"), "\(text.prefix(300))")
                    }
                }
            }
            let volunteer = try await f.host(name: "ledger")
            let owner = try #require(try await store.read { try await $0.host(id: volunteer.hostID) }?.accountId)
            for kind in ["bogus", "Credit"] {
                do {
                    // The Swift type cannot say it; only SQL written by hand can.
                    try await store.transaction {
                        try await $0.run("""
                            INSERT INTO hours_ledger (id, account_id, volunteer_seq, kind, hours, estimated_hours, reported_cpu_seconds, day, created_at)
                            VALUES (\(bind: UUID().uuidString), \(bind: owner), 1, \(bind: kind), 1, 1, 0, '2026-12-06', 0)
                            """)
                    }
                    Issue.record("hours_ledger.kind = \(kind) was accepted")
                } catch {
                    let text = String(reflecting: error)
                    #expect(text.contains("kind") || text.lowercased().contains("check"), "\(text.prefix(300))")
                }
            }
            // Nothing changed, and the typed records still read.
            #expect(try await store.read { try await $0.replica(id: replica.id) }?.state == replica.state)
            #expect(try await store.read { try await $0.workUnit(id: unit.id) }?.state == .active)
            #expect(try await store.read { try await $0.dataset(id: dataset.id) }?.state == .searching)
        }
    }
}
