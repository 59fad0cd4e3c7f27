import CoordinatorCore
import CoordinatorService
import CoordinatorStore
import CoordinatorTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SQLKit
import ServiceLifecycle
import Testing
import XunxingClient
import XunxingHTTPClient
import XunxingProtocol
import XunxingSupport

/// A stand-in for the external volunteer-profile platform: checks signatures, key ids and batch
/// age, applies each idempotency key once and in order per profile, and fails some requests on purpose.
final class ProfilePlatform: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var applied: [String: (volunteer: String, profile: String, sequence: Int, hours: Double, reverses: String?)] = [:]
    private(set) var lastSequence: [String: Int] = [:]
    private(set) var requests = 0
    private(set) var badSignatures = 0
    private(set) var outOfOrder = 0
    private(set) var staleOrUnknownKey = 0
    /// Times each key arrived in a batch answered 200: a coordinator that resent acknowledged
    /// entries would show 2 here, whatever the idempotency keys hide.
    private(set) var acknowledgedDeliveries: [String: Int] = [:]
    let secret: String
    /// Request numbers (1-based) refused before applying, and applied but answered with an error.
    let refuse: Set<Int>
    let applyThenFail: Set<Int>
    /// Seconds the platform waits before answering (a platform that hangs).
    var delay: Double = 0
    /// The platform's clock, against which a batch's `sentAt` must be recent.
    var now: @Sendable () -> Double = { Date().timeIntervalSince1970 }

    init(secret: String, refuse: Set<Int>, applyThenFail: Set<Int>) {
        self.secret = secret
        self.refuse = refuse
        self.applyThenFail = applyThenFail
    }

    func handle(body: Data, signature: String?) -> Int {
        lock.lock()
        defer { lock.unlock() }
        requests += 1
        let n = requests
        guard signature == "sha256=" + ProfileSync.signature(of: body, secret: secret) else {
            badSignatures += 1
            return 401
        }
        if refuse.contains(n) { return 503 }
        guard let batch = try? WireCoding.decoder().decode(SyncBatch.self, from: body) else { return 400 }
        // A captured batch replayed later, or one signed with a key this platform does not hold.
        guard batch.keyID == "1", abs(now() - batch.sentAt) < 300 else {
            staleOrUnknownKey += 1
            return 401
        }
        for entry in batch.entries {
            if applied[entry.idempotencyKey] != nil { continue }
            if entry.sequence != (lastSequence[batch.platformProfileID] ?? 0) + 1 { outOfOrder += 1 }
            applied[entry.idempotencyKey] = (batch.volunteerID, batch.platformProfileID, entry.sequence, entry.hours, entry.reverses)
            lastSequence[batch.platformProfileID] = entry.sequence
        }
        if applyThenFail.contains(n) { return 500 }
        for entry in batch.entries { acknowledgedDeliveries[entry.idempotencyKey, default: 0] += 1 }
        return 200
    }

    func hours(of volunteer: String) -> Double {
        lock.withLock { applied.values.filter { $0.volunteer == volunteer }.reduce(0) { $0 + $1.hours } }
    }

    /// Serves the platform on a loopback port until `body` returns.
    func serve<T>(_ body: (String) async throws -> T) async throws -> T {
        let router = Router()
        router.post("sync") { request, _ -> Response in
            let buffer = try await request.body.collect(upTo: 1 << 20)
            let status = self.handle(body: Data(buffer: buffer), signature: request.headers[HTTPField.Name("X-Xunxing-Signature")!])
            if self.delay > 0 { try await Task.sleep(for: .milliseconds(Int(self.delay * 1000))) }
            return Response(status: .init(code: status))
        }
        var logger = Logger(label: "platform")
        logger.logLevel = .error
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) }, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        let task = Task { try await group.run() }
        var port = 0
        for await p in ports { port = p; break }
        defer { Task { await group.triggerGracefulShutdown() } }
        let result = try await body("http://127.0.0.1:\(port)/sync")
        await group.triggerGracefulShutdown()
        _ = try? await task.value
        return result
    }
}

@Suite("Charity hours: ledger, profiles, sync", .serialized)
struct HoursTests {
    @Test("hours equal the estimates of the units each volunteer validated; ledger synced exactly once through failures", arguments: Backend.allCases)
    func hoursAndSync(backend: Backend) async throws {
        let platform = ProfilePlatform(secret: "s3cret", refuse: [1, 4], applyThenFail: [2, 6])
        try await platform.serve { syncURL in
            try await CoordinatorFixture.with(backend: backend, {
                $0.trustThreshold = 1_000_000
                $0.syncURL = syncURL
                $0.syncSecret = "s3cret"
                $0.syncBackoffBase = 0.05
                $0.syncBackoffCap = 0.2
            }) { f in
                let astronomer = try await f.astronomer()
                let dataset = try await f.submitAndSplit(try f.simulatedObservation(samples: 1 << 16), astronomer: astronomer, dmMax: 200)
                let a = try await f.host(name: "ann")
                let b = try await f.host(name: "bob")
                let accounts = try await f.coordinator.store.transaction { tx in
                    (try await tx.host(id: a.hostID)!.accountId, try await tx.host(id: b.hostID)!.accountId)
                }
                // Both link their platform profiles.
                for account in [accounts.0, accounts.1] {
                    try await f.coordinator.store.transaction { try await $0.linkPlatformProfile(account: account, profileID: "p-\(account)") }
                }
                async let ra = a.work()
                async let rb = b.work()
                _ = try await (ra, rb)
                try await f.waitUntil(timeout: 30, "complete") {
                    try await onThread { try astronomer.dataset(dataset.id).state } == "complete"
                }

                for (host, account) in [(a, accounts.0), (b, accounts.1)] {
                    let expected = try await f.coordinator.store.transaction { tx -> Double in
                        var total = 0.0
                        for unit in try await tx.workUnits(dataset: dataset.id) {
                            let replicas = try await tx.replicas(workUnit: unit.id)
                            if replicas.contains(where: { $0.hostId == host.hostID && $0.state == ReplicaState.valid }) {
                                total += HoursLedger.creditedHours(unit: unit, valid: replicas.filter { $0.state == ReplicaState.valid })
                            }
                        }
                        return total
                    }
                    let profile = try await onThread { try CoordinatorClient(baseURL: f.baseURL).profile(volunteer: account) }
                    #expect(expected > 0)
                    #expect(abs(profile.hoursTotal - expected) < 1e-9, "\(host.name): \(profile.hoursTotal) vs \(expected)")
                    #expect(profile.workUnits > 0 && profile.datasetsHelped == 1)
                    #expect(profile.hosts.count == 1)
                    // Both hosts returned every unit, so each took part in every merged candidate.
                    let merged = try await onThread { try astronomer.candidates(dataset.id) }.filter { $0.dmIndex != nil }.count
                    #expect(merged > 0 && profile.candidates == merged, "\(profile.candidates) of \(merged)")
                }

                // Every entry reaches the platform exactly once, in order, despite the failures.
                try await f.waitUntil(timeout: 30, "sync") {
                    try await f.coordinator.store.transaction { try await $0.unsyncedEntryCount() } == 0
                }
                let ledgerCount = try await f.coordinator.store.transaction { tx in
                    try await tx.ledger(account: accounts.0).count + tx.ledger(account: accounts.1).count
                }
                #expect(platform.applied.count == ledgerCount)
                // Exactly once, counted: no entry was sent again after the platform acknowledged it.
                #expect(platform.acknowledgedDeliveries.count == ledgerCount && platform.acknowledgedDeliveries.values.allSatisfy { $0 == 1 },
                        "\(platform.acknowledgedDeliveries.values.sorted())")
                #expect(platform.outOfOrder == 0)
                #expect(platform.badSignatures == 0 && platform.staleOrUnknownKey == 0)
                #expect(platform.requests > 2)
                // The sync state is the volunteer's (or an administrator's) to see.
                let (_, admin) = try await f.coordinator.core.accounts.createAccount(role: .admin, name: "operator")
                for account in [accounts.0, accounts.1] {
                    let profile = try await onThread { try CoordinatorClient(baseURL: f.baseURL, secret: admin).profile(volunteer: account) }
                    #expect(abs(platform.hours(of: account) - profile.hoursTotal) < 1e-9)
                    #expect(profile.sync?.state == "synced")
                }
                let metrics = try await onThread { try f.httpGet("/metrics") }
                #expect(metrics.contains("xunxing_profile_sync_failures_total"))
                #expect(metrics.contains("xunxing_charity_hours_credited_total"))
            }
        }
    }

    @Test("the ledger is append-only; a correction is a reversal entry; crediting is idempotent and capped per host-day", arguments: Backend.allCases)
    func ledgerRules(backend: Backend) async throws {
        try await CoordinatorFixture.with(backend: backend, { $0.trustThreshold = 1_000_000 }) { f in
            let astronomer = try await f.astronomer()
            let dataset = try await f.submitAndSplit(try f.simulatedObservation(), astronomer: astronomer)
            let a = try await f.host(name: "a")
            let b = try await f.host(name: "b")
            async let ra = a.work()
            async let rb = b.work()
            _ = try await (ra, rb)
            let store = f.coordinator.store
            let account = try await store.transaction { try await $0.host(id: a.hostID)!.accountId }
            let entries = try await store.transaction { try await $0.ledger(account: account) }
            let first = try #require(entries.first)
            // Refused by the database's own rule (its message), and the entry is unchanged.
            for statement: SQLQueryString in ["UPDATE hours_ledger SET hours = 1000 WHERE id = \(bind: first.id)",
                                              "DELETE FROM hours_ledger WHERE id = \(bind: first.id)"] {
                let error = await #expect(throws: (any Error).self) { try await store.transaction { try await $0.run(statement) } }
                #expect("\(String(describing: error))".contains("append-only"), "\(String(describing: error))")
            }
            #expect(try await store.read { try await $0.ledgerEntry(id: first.id) } == first)
            // A second credit for one replica is refused by the unique index the load audit's
            // double-credit count relies on.
            var twice = first
            twice.id = "second-credit-of-\(first.replicaId!)"
            twice.volunteerSeq += 1000
            let doubled = twice
            let duplicate = await #expect(throws: (any Error).self) { try await store.transaction { try await $0.appendLedgerEntry(doubled) } }
            #expect("\(String(describing: duplicate))".lowercased().contains("unique") || "\(String(describing: duplicate))".contains("23505"),
                    "\(String(describing: duplicate))")
            // Crediting the same replica again adds nothing.
            let unit = try #require(try await store.transaction { try await $0.workUnit(id: first.workUnitId!) })
            try await store.transaction { try await f.coordinator.core.ledger.credit(replica: first.replicaId!, unit: unit, tx: $0) }
            #expect(try await store.transaction { try await $0.ledger(account: account) }.count == entries.count)

            let before = try await onThread { try CoordinatorClient(baseURL: f.baseURL).profile(volunteer: account) }.hoursTotal
            try await f.coordinator.core.ledger.reverseCredit(entry: first.id)
            let after = try await onThread { try CoordinatorClient(baseURL: f.baseURL).profile(volunteer: account) }.hoursTotal
            #expect(abs(before - first.hours - after) < 1e-12)
            let reversal = try #require(try await store.transaction { try await $0.ledger(account: account) }.last)
            #expect(reversal.kind == .reversal && reversal.reverses == first.id && reversal.hours == -first.hours)
            // Reversing it again, as an operator would through the API: 409 naming the reversal, nothing appended.
            let (_, admin) = try await f.coordinator.core.accounts.createAccount(role: .admin, name: "operator")
            let again = try await XunxingHTTPClient.HTTPClient().send(
                "POST", url: f.baseURL + "/api/v1/admin/ledger/\(first.id)/reverse", headers: ["Authorization": "Bearer \(admin)"])
            let message = String(decoding: again.body, as: UTF8.self)
            #expect(again.status == 409 && message.contains(reversal.id), "\(again.status) \(message)")
            #expect(try await store.transaction { try await $0.ledger(account: account) }.count == entries.count + 1)
            // The operator lists the ledger by API: every entry in order, paged by `after`.
            func list(_ query: String) async throws -> (Int, [LedgerEntryView]) {
                let answer = try await XunxingHTTPClient.HTTPClient().send(
                    "GET", url: f.baseURL + "/api/v1/admin/ledger" + query, headers: ["Authorization": "Bearer \(admin)"])
                let entries = answer.status == 200 ? try JSONDecoder().decode([LedgerEntryView].self, from: answer.body) : []
                return (answer.status, entries)
            }
            let (status, listed) = try await list("?account=\(account)")
            #expect(status == 200 && listed.map(\.sequence) == Array(1...(entries.count + 1)))
            #expect(listed.last?.id == reversal.id && listed.last?.reverses == first.id && listed.first?.id == entries.first?.id)
            let (_, page) = try await list("?account=\(account)&after=1&limit=2")
            #expect(page.map(\.sequence) == [2, 3].filter { $0 <= entries.count + 1 })
            let missing = try await list("").0, unknown = try await list("?account=nobody").0
            let badLimit = try await list("?account=\(account)&limit=0").0
            #expect(missing == 400 && unknown == 404 && badLimit == 400)

            // The cap: a unit estimated at 30 reference-core hours credits at most 24 a day to a host that
            // claims one reference core (DailyCapTests: the cap from demonstrated speed).
            var bigUnit = unit
            bigUnit.id = "big-unit"
            bigUnit.seq = 10_000
            bigUnit.estimatedCost = 30 * 3600
            let big = bigUnit
            try await store.transaction { tx in
                try await tx.insertWorkUnit(big)
                try await tx.insertReplica(id: "big-replica", workUnit: big.id, at: 0)
                _ = try await tx.assignReplica(id: "big-replica", host: a.hostID, account: account, at: 0, deadline: 1e12)
                try await f.coordinator.core.ledger.credit(replica: "big-replica", unit: big, tx: tx)
            }
            let capped = try #require(try await store.transaction { try await $0.ledgerEntry(replica: "big-replica") })
            let host = try #require(try await store.transaction { try await $0.host(id: a.hostID) })
            let today = try await store.transaction { try await $0.creditedHours(host: a.hostID, day: capped.day) }
            #expect(capped.estimatedHours == 30)
            #expect(capped.hours < 30)
            #expect(abs(today - Double(host.cores) * 24) < 1e-9)
            _ = dataset
        }
    }

    @Test("statement month by month, stats exports, and `xunxing profile` with hours_total")
    func statementExportsAndCommand() async throws {
        try await CoordinatorFixture.with({ $0.trustThreshold = 1_000_000; $0.statsExportInterval = 0 }) { f in
            let astronomer = try await f.astronomer()
            _ = try await f.submitAndSplit(try f.simulatedObservation(), astronomer: astronomer)
            let anonymous = CoordinatorClient(baseURL: f.baseURL)
            let signup = try await onThread { try anonymous.signup(email: "carol@example.org", name: "Carol, \"the\" volunteer") }
            let volunteer = CoordinatorClient(baseURL: f.baseURL, secret: signup.accountKey)
            let registration = try await onThread { try volunteer.registerHost(HostRegistration(name: "c1", cores: 2, memoryMB: 512, os: "Linux")) }
            let carol = TestHost(name: "c1", hostID: registration.hostID, client: CoordinatorClient(baseURL: f.baseURL, secret: registration.hostKey))
            let other = try await f.host(name: "d")
            async let rc = carol.work()
            async let rd = other.work()
            _ = try await (rc, rd)

            let year = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: Date()).year!
            let month = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: Date()).month!
            let statement = try await onThread { try volunteer.statement(volunteer: signup.accountID, year: year) }
            let profile = try await onThread { try volunteer.myProfile() }
            #expect(statement.months.count == 12)
            #expect(abs(statement.months[month - 1].hours - profile.hoursTotal) < 1e-9)
            #expect(abs(statement.hoursTotal - profile.hoursTotal) < 1e-9)
            // Someone else's statement is not readable.
            let stranger = try await onThread { try anonymous.signup(email: "eve@example.org", name: "Eve") }
            let error = await #expect(throws: CoordinatorClientError.self) {
                try await onThread { try CoordinatorClient(baseURL: f.baseURL, secret: stranger.accountKey).statement(volunteer: signup.accountID, year: year) }
            }
            #expect(error?.status == 403)

            let csv = try await onThread { try f.httpGet("/api/v1/stats/volunteers.csv") }
            #expect(csv.hasPrefix("account_id,name,hours_total,work_units,datasets_helped,"))
            #expect(csv.contains("\"Carol, \"\"the\"\" volunteer\""))
            let json = try await onThread { try f.httpGet("/api/v1/stats/hosts.json") }
            let hosts = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
            #expect(hosts.contains { $0["host_id"] as? String == registration.hostID })

            let command = try await BuiltExecutable.run("xunxing", ["profile", "--coordinator", f.baseURL, "--account-key", signup.accountKey, "--format", "json"])
            #expect(command.status == 0, "\(command.stderr)")
            let printed = try #require(try JSONSerialization.jsonObject(with: Data(command.stdout.utf8)) as? [String: Any])
            #expect(abs((printed["hours_total"] as? Double ?? -1) - profile.hoursTotal) < 1e-9)
        }
    }

    @Test("sequences count per platform profile: a relink starts a clean stream, and a reversal goes to the profile that received the entry")
    func relinkAndReversal() async throws {
        let platform = ProfilePlatform(secret: "s3cret", refuse: [], applyThenFail: [])
        try await platform.serve { syncURL in
            try await CoordinatorFixture.with({ $0.syncURL = syncURL; $0.syncSecret = "s3cret"; $0.jobInterval = 0.1 }) { f in
                let signup = try await onThread { try CoordinatorClient(baseURL: f.baseURL).signup(email: "r@example.org", name: "R") }
                let me = CoordinatorClient(baseURL: f.baseURL, secret: signup.accountKey)
                let store = f.coordinator.store
                func credit(_ id: String) async throws {
                    try await store.transaction { tx in
                        try await tx.appendLedgerEntry(LedgerEntryRecord(
                            id: id, accountId: signup.accountID, volunteerSeq: try await tx.nextVolunteerSeq(account: signup.accountID),
                            hostId: nil, replicaId: nil, workUnitId: nil, datasetId: nil, kind: .credit, reverses: nil, hours: 0.25,
                            estimatedHours: 0.25, reportedCpuSeconds: 0, day: "2026-12-06", createdAt: 0))
                    }
                }
                func synced() async throws {
                    try await f.waitUntil(timeout: 20, "synced") { try await store.read { try await $0.unsyncedEntryCount() } == 0 }
                }
                let first = f.linkCode(profileID: "P1")
                _ = try await onThread { try me.linkPlatform(code: first) }
                try await credit("e1")
                try await credit("e2")
                try await synced()
                let second = f.linkCode(profileID: "P2")
                _ = try await onThread { try me.linkPlatform(code: second) }
                try await credit("e3")
                try await synced()
                try await f.coordinator.core.ledger.reverseCredit(entry: "e1")
                try await synced()

                let applied = platform.applied
                #expect(applied["e1"]?.profile == "P1" && applied["e1"]?.sequence == 1)
                #expect(applied["e2"]?.profile == "P1" && applied["e2"]?.sequence == 2)
                #expect(applied["e3"]?.profile == "P2" && applied["e3"]?.sequence == 1, "a relink starts a clean stream: \(String(describing: applied["e3"]))")
                let reversal = applied.first { $0.value.reverses == "e1" }
                #expect(reversal?.value.profile == "P1" && reversal?.value.sequence == 3, "the reversal went to \(String(describing: reversal?.value))")
                #expect(applied.count == 4 && platform.outOfOrder == 0 && platform.staleOrUnknownKey == 0)
                // P1 received 0.25 - 0.25 + 0.25 net of the reversal, P2 0.25.
                let byProfile = Dictionary(grouping: applied.values, by: \.profile).mapValues { $0.reduce(0) { $0 + $1.hours } }
                #expect(byProfile == ["P1": 0.25, "P2": 0.25])
            }
        }
    }
}
