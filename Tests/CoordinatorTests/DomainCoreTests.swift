import CoordinatorCore
import CoordinatorStore
import CoordinatorTestSupport
import Foundation
import Logging
import PulsarSearch
import Testing
import XunxingProtocol
import XunxingSupport

/// The domain core on its own: no HTTP server, no process, no sleeping. Time is a ``ManualClock``
/// the test moves past deadlines, and the services are called directly.
@Suite("The coordinator's domain core, in process, on a manual clock")
struct DomainCoreTests {
    /// A core on a fresh SQLite database in a temporary directory, its clock at a fixed start.
    struct Domain {
        let core: CoordinatorCore
        let clock: ManualClock
        let directory: URL

        static func open(
            start: Double = 1_800_000_000, _ adjust: (inout CoordinatorConfiguration) -> Void = { _ in }
        ) async throws -> Domain {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("domain-\(UUID().uuidString)")
            var configuration = CoordinatorConfiguration(
                dataDirectory: directory.path, presetsDirectory: CoordinatorFixture.packageRoot.appendingPathComponent("workunits").path)
            configuration.defaultPreset = "tiny"
            adjust(&configuration)
            var logger = Logger(label: "test.domain")
            logger.logLevel = .warning
            let clock = ManualClock(start)
            return Domain(core: try await CoordinatorCore.open(configuration, logger: logger, clock: clock), clock: clock, directory: directory)
        }

        /// Runs `body` on a fresh domain and always closes it.
        static func with(
            start: Double = 1_800_000_000, _ adjust: (inout CoordinatorConfiguration) -> Void = { _ in },
            _ body: (Domain) async throws -> Void
        ) async throws {
            let domain = try await open(start: start, adjust)
            do {
                try await body(domain)
            } catch {
                await domain.close()
                throw error
            }
            await domain.close()
        }

        func close() async {
            try? await core.store.close()
            try? FileManager.default.removeItem(at: directory)
        }

        /// A volunteer with one registered host.
        func host(_ name: String) async throws -> (account: String, host: String) {
            let (account, _) = try await core.accounts.signUp(email: "\(name)@example.org", name: name)
            let (host, _) = try await core.accounts.registerHost(account: account, name: name, cores: 1, memoryMB: 1024, os: "Linux")
            return (account, host)
        }

        /// A simulated observation submitted through `Submission.ingest` as a stream of 64 KiB
        /// chunks, then split.
        func submitAndSplit(samples: Int = 1 << 16, dmMax: Double = 400, split: Bool = true) async throws -> DatasetStatus {
            var o = SimulatedObservation()
            o.channels = 32
            o.foff = -4
            o.tsamp = 512e-6
            o.samples = samples
            o.pulsars = [InjectedPulsar(period: 0.1234, dm: 20, dutyCycle: 0.05, snr: 30)]
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let path = directory.appendingPathComponent("sim.fil").path
            try Simulator.writeFilterbank(o, to: path)
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            let chunks = AsyncStream<Data> { continuation in
                for start in stride(from: 0, to: data.count, by: 1 << 16) {
                    continuation.yield(data.subdata(in: start..<min(data.count, start + (1 << 16))))
                }
                continuation.finish()
            }
            let (owner, _) = try await core.accounts.createAccount(role: .astronomer, name: "astronomer")
            let submitted = try await core.submission.ingest(
                DatasetSubmission(name: "sim", dmMax: dmMax, sha256: FileDigest.hex(SHA256.hash(data: data))), owner: owner, body: chunks)
            #expect(submitted.sizeBytes == Int64(data.count))
            if split { try await core.splitter.splitPendingDatasets() }
            let record = try #require(try await core.store.read { try await $0.dataset(id: submitted.id) })
            return try await core.submission.status(of: record)
        }

        func replicas(of unit: String) async throws -> [ReplicaRecord] {
            try await core.store.read { try await $0.replicas(workUnit: unit) }
        }
    }

    static let oneUnit = WorkRequest(cores: 1, memoryMB: 1024, speed: 1, seconds: 1e-9, maxUnits: 1)

    @Test("an unacknowledged replica is lost once the clock passes its acknowledgement timeout, not before, and its unit goes to another host")
    func acknowledgementTimeout() async throws {
        try await Domain.with({ $0.acknowledgeTimeout = 120 }) { domain in
            let dataset = try await domain.submitAndSplit()
            #expect(dataset.state == "searching" && dataset.units.total >= 2, "\(dataset)")
            let (accountA, hostA) = try await domain.host("a")
            let sent = try await domain.core.scheduler.assign(host: hostA, account: accountA, network: nil, request: Self.oneUnit)
            let assignment = try #require(sent.assignments.first)

            domain.clock.advance(by: 119)
            try await domain.core.replication.expireOverdueReplicas()
            #expect(try await domain.replicas(of: assignment.workUnitID).first { $0.id == assignment.replicaID }?.state == .assigned)

            domain.clock.advance(by: 2)
            try await domain.core.replication.expireOverdueReplicas()
            let replicas = try await domain.replicas(of: assignment.workUnitID)
            #expect(replicas.first { $0.id == assignment.replicaID }?.state == .lost)
            // Its unit has two unsent replicas again (the twin and the reissue), and another host gets it.
            #expect(replicas.filter { $0.state == .unsent }.count == 2, "\(replicas.map(\.state))")
            let (accountB, hostB) = try await domain.host("b")
            let all = WorkRequest(cores: 1, memoryMB: 1024, speed: 1, seconds: 1e9, maxUnits: 8)
            let next = try await domain.core.scheduler.assign(host: hostB, account: accountB, network: nil, request: all)
            #expect(next.assignments.contains { $0.workUnitID == assignment.workUnitID })
            // Host A, which lost it, never gets that unit again.
            let again = try await domain.core.scheduler.assign(host: hostA, account: accountA, network: nil, request: all)
            #expect(!again.assignments.contains { $0.workUnitID == assignment.workUnitID } && !again.assignments.isEmpty)
            // A late acknowledgement is refused: the replica was reissued.
            await #expect(throws: DomainError.self) { try await domain.core.scheduler.acknowledge(replica: assignment.replicaID, host: hostA) }
        }
    }

    @Test("an acknowledged replica has its unit's whole deadline from the acknowledgement: lost one second after it, not one second before")
    func searchDeadline() async throws {
        try await Domain.with({ $0.acknowledgeTimeout = 30 }) { domain in
            _ = try await domain.submitAndSplit()
            let (account, host) = try await domain.host("a")
            let sent = try await domain.core.scheduler.assign(host: host, account: account, network: nil, request: Self.oneUnit)
            let assignment = try #require(sent.assignments.first)
            domain.clock.advance(by: 60)
            try await domain.core.scheduler.acknowledge(replica: assignment.replicaID, host: host)
            let unit = try #require(try await domain.core.store.read { try await $0.workUnit(id: assignment.workUnitID) })
            #expect(unit.deadlineSeconds > 60, "a deadline longer than the acknowledgement timeout: \(unit.deadlineSeconds)")

            domain.clock.advance(by: unit.deadlineSeconds - 1)
            try await domain.core.replication.expireOverdueReplicas()
            #expect(try await domain.replicas(of: unit.id).first { $0.id == assignment.replicaID }?.state == .acknowledged)
            domain.clock.advance(by: 2)
            try await domain.core.replication.expireOverdueReplicas()
            #expect(try await domain.replicas(of: unit.id).first { $0.id == assignment.replicaID }?.state == .lost)
        }
    }

    @Test("domain refusals are typed: another host's replica is forbidden, a missing one not found, a bad preset invalid")
    func typedRefusals() async throws {
        try await Domain.with { domain in
            _ = try await domain.submitAndSplit()
            let (accountA, hostA) = try await domain.host("a")
            let (_, hostB) = try await domain.host("b")
            let assignment = try #require(
                try await domain.core.scheduler.assign(host: hostA, account: accountA, network: nil, request: Self.oneUnit).assignments.first)
            await #expect(throws: DomainError.forbidden("replica \(assignment.replicaID) is assigned to another host")) {
                try await domain.core.scheduler.acknowledge(replica: assignment.replicaID, host: hostB)
            }
            await #expect(throws: DomainError.notFound("replica missing")) {
                try await domain.core.scheduler.acknowledge(replica: "missing", host: hostA)
            }
            let empty = AsyncStream<Data> { $0.finish() }
            await #expect(throws: DomainError.self) {
                _ = try await domain.core.submission.ingest(DatasetSubmission(preset: "no-such-preset"), owner: accountA, body: empty)
            }
        }
    }

    @Test("a split cancelled by a shutdown leaves its dataset waiting to be split again, not failed")
    func cancelledSplit() async throws {
        try await Domain.with { domain in
            let status = try await domain.submitAndSplit(split: false)
            let splitting = Task { try await domain.core.splitter.splitPendingDatasets() }
            splitting.cancel()
            _ = try? await splitting.value
            let record = try #require(try await domain.core.store.read { try await $0.dataset(id: status.id) })
            #expect(record.state == .splitting, "\(record.state): \(record.error ?? "")")
            // The next pass splits it.
            try await domain.core.splitter.splitPendingDatasets()
            #expect(try await domain.core.store.read { try await $0.dataset(id: status.id) }?.state == .searching)
        }
    }

    @Test("a job's lease passes to another coordinator only once the clock passes its TTL, and the old holder's writes are then fenced off")
    func leaseExpiresByTheClock() async throws {
        try await Domain.with { domain in
            // A second coordinator on the same database: its own name in the leases, the same clock.
            var logger = Logger(label: "test.second")
            logger.logLevel = .critical
            let second = CoordinatorCore(CoordinatorEnvironment(
                configuration: domain.core.configuration, store: domain.core.store, presets: domain.core.presets,
                logger: logger, clock: domain.clock))
            let (holding, held) = AsyncStream.makeStream(of: Void.self)
            let (releases, release) = AsyncStream.makeStream(of: Void.self)
            // The first holder stalls: its renewals stop (a renewal every 10 s of real time would
            // otherwise keep the lease whenever this test runs that long on a loaded machine).
            let first = Task {
                try await domain.core.withLease("probe", ttl: 30, renewalInterval: 86_400) {
                    held.yield()
                    for await _ in releases { break }
                    // Still running after the takeover: this write must not commit.
                    try await domain.core.store.transaction { tx in
                        try await tx.insertAccount(AccountRecord(id: "late-write", role: .volunteer, name: "late", createdAt: 0))
                    }
                }
            }
            for await _ in holding { break }
            final class Ran: @unchecked Sendable { var count = 0 }
            let ran = Ran()
            try await second.withLease("probe", ttl: 30) { ran.count += 1 }
            #expect(ran.count == 0, "taken while held")
            domain.clock.advance(by: 29)
            try await second.withLease("probe", ttl: 30) { ran.count += 1 }
            #expect(ran.count == 0, "taken before the TTL passed")
            domain.clock.advance(by: 2)
            try await second.withLease("probe", ttl: 30) { ran.count += 1 }
            #expect(ran.count == 1, "not taken once the TTL passed")
            release.yield()
            await #expect(throws: StorageError.self) { try await first.value }
            #expect(try await domain.core.store.read { try await $0.account(id: "late-write") } == nil)
        }
    }
}
