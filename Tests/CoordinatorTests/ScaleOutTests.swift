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

/// Holds every host after a given number of reports until the test has done what it wants to do
/// mid-run (kill a coordinator), so the run cannot finish before that on a fast or loaded machine.
final class MidRunGate: @unchecked Sendable {
    private let condition = NSCondition()
    private var reports = 0
    private var isOpen = false
    let holdAfter: Int

    init(holdAfter: Int) { self.holdAfter = holdAfter }

    /// Counts one report; blocks the calling host while the gate is closed and enough reports are in.
    func reported() {
        condition.lock()
        defer { condition.unlock() }
        reports += 1
        condition.broadcast()
        while !isOpen && reports >= holdAfter { condition.wait() }
    }

    /// Waits (off the concurrency pool) until `holdAfter` reports are in, or `timeout` passes.
    func waitUntilHeld(timeout: TimeInterval) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(timeout)
        while reports < holdAfter { if !condition.wait(until: deadline) { return false } }
        return true
    }

    func open() {
        condition.lock()
        isOpen = true
        condition.broadcast()
        condition.unlock()
    }
}

/// A host that talks to whichever coordinator answers (as behind a load balancer), recording
/// every replica it was handed and what became of its result.
final class RoamingHost: @unchecked Sendable {
    let hostID: String
    let clients: [CoordinatorClient]
    let gate: MidRunGate
    private(set) var assigned: [String] = []
    private(set) var reported: [String: String] = [:]
    private var current = 0

    init(hostID: String, clients: [CoordinatorClient], gate: MidRunGate) {
        self.hostID = hostID
        self.clients = clients
        self.gate = gate
    }

    func call<T>(_ body: (CoordinatorClient) throws -> T) throws -> T {
        for _ in 0..<(clients.count * 20) {
            do {
                return try body(clients[current])
            } catch let error as CoordinatorClientError {
                guard case .unreachable = error else { throw error }
                current = (current + 1) % clients.count
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        throw FixtureError.timeout("any coordinator to answer")
    }

    func work(directory: URL) throws {
        let planner = FFTPlanner(rigor: .estimate)
        var idle = 0
        while idle < 400 {
            let response = try call { try $0.requestWork(WorkRequest(cores: 1, memoryMB: 1024, speed: 1, seconds: 1e-9)) }
            guard let a = response.assignments.first else {
                if response.projectIdle { return }
                idle += 1
                Thread.sleep(forTimeInterval: 0.1)
                continue
            }
            idle = 0
            assigned.append(a.replicaID)
            try call { try $0.acknowledge(replica: a.replicaID) }
            let path = directory.appendingPathComponent(a.replicaID).path
            try call { try $0.downloadPayload(a, to: path) }
            let result = try WorkUnitExecutor(payload: path, planner: planner).result(software: "roaming")
            try? FileManager.default.removeItem(atPath: path)
            do {
                reported[a.replicaID] = try call { try $0.report(replica: a.replicaID, result: result) }.outcome
            } catch let error as CoordinatorClientError where error.status == 409 {
                reported[a.replicaID] = "late"  // its deadline passed while a coordinator was down
            }
            gate.reported()
        }
    }
}

@Suite("Scale-out: several coordinators on one PostgreSQL", .serialized)
struct ScaleOutTests {
    @Test("three coordinators, eight hosts, one coordinator killed mid-run: no replica twice, no result lost, hours match")
    func threeCoordinators() async throws {
        let url = try await onThread { try PostgresTestCluster.shared.makeDatabase() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("scale-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let arguments = ["--database", url, "--default-preset", "tiny", "--job-interval", "0.2", "--acknowledge-timeout", "3"]
        let servers = (0..<3).map { _ in CoordinatorProcess(dataDirectory: directory.path, arguments: arguments) }
        for server in servers { try server.start() }
        defer { for server in servers { server.kill() } }

        let token = try await BuiltExecutable.run(
            "xunxing-coordinator", ["token", "create", "--role", "astronomer", "--name", "S", "--data-dir", directory.path, "--database", url])
        #expect(token.status == 0, "\(token.stderr)")
        let astronomer = CoordinatorClient(baseURL: servers[0].baseURL, secret: String(token.stdout.split(separator: "\n").last!))
        let file = CoordinatorFixture.dataPath("tutorial.fil")
        let dataset = try await onThread { try astronomer.submit(file: file, name: "t", preset: "tiny", dmMax: nil, accelMax: nil, sha256: nil) }

        let gate = MidRunGate(holdAfter: 6)
        // Eight hosts of eight volunteers, spread over the three coordinators.
        let hosts = try await onThread { () -> [RoamingHost] in
            try (0..<8).map { i in
                let base = servers[i % 3].baseURL
                let account = try CoordinatorClient(baseURL: base).signup(email: "v\(i)@scale.example", name: "v\(i)")
                let registration = try CoordinatorClient(baseURL: base, secret: account.accountKey)
                    .registerHost(HostRegistration(name: "h\(i)", cores: 1, memoryMB: 512, os: "Linux"))
                let order = (0..<3).map { servers[(i + $0) % 3].baseURL }
                return RoamingHost(
                    hostID: registration.hostID, clients: order.map { CoordinatorClient(baseURL: $0, secret: registration.hostKey) }, gate: gate)
            }
        }
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("hosts"), withIntermediateDirectories: true)
        let work = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for host in hosts { group.addTask { try await onThread { try host.work(directory: directory.appendingPathComponent("hosts")) } } }
                try await group.waitForAll()
            }
        }
        // Kill the second coordinator once six results are in; the hosts wait at the gate until it is
        // down, so the rest of the search runs with one coordinator gone.
        let client = CoordinatorClient(baseURL: servers[0].baseURL, secret: astronomer.secret)
        let held = try await onThread { gate.waitUntilHeld(timeout: 120) }
        #expect(held, "six results never came in")
        servers[1].kill()
        gate.open()
        let counts = try await onThread { try client.dataset(dataset.id).units }
        #expect(counts.validated < counts.total)
        try await work.value

        let deadline = Date().addingTimeInterval(60)
        while try await onThread({ try client.dataset(dataset.id).state }) != "complete", Date() < deadline {
            try await Task.sleep(for: .milliseconds(300))
        }
        let status = try await onThread { try client.dataset(dataset.id) }
        #expect(status.state == "complete")
        #expect(status.units.total > 3 && status.units.validated == status.units.total)

        // No replica was handed to two hosts.
        let all = hosts.flatMap(\.assigned)
        #expect(Set(all).count == all.count)
        // No accepted result was lost: each is stored and judged.
        let store = try await PostgresStorage.connect(url: url)
        defer { Task { try? await store.close() } }
        for host in hosts {
            for (replica, outcome) in host.reported where outcome != "late" {
                let state = try await store.transaction { try await $0.replica(id: replica)?.state }
                #expect(state.map { [ReplicaState.reported, .valid, .invalid].contains($0) } == true, "\(replica): \(outcome) -> \(state?.rawValue ?? "missing")")
            }
        }
        // Every unit has at least two valid results, each from a different host, and hours match
        // the validated units. (Three when a replica was reissued while the coordinator was down
        // and all three results came in before the unit was judged: agreeing, all count.)
        let units = try await store.transaction { try await $0.workUnits(dataset: dataset.id) }
        var expected: [String: Double] = [:]
        for unit in units {
            let valid = try await store.transaction { try await $0.replicas(workUnit: unit.id) }.filter { $0.state == ReplicaState.valid }
            let replicas = try await store.transaction { try await $0.replicas(workUnit: unit.id) }.map { "\($0.state) \($0.hostId ?? "-")" }
            #expect(valid.count >= 2 && Set(valid.compactMap(\.hostId)).count == valid.count, "unit \(unit.id): \(replicas)")
            for r in valid { expected[r.accountId!, default: 0] += HoursLedger.creditedHours(unit: unit, valid: valid) }
        }
        for (account, hours) in expected {
            let ledger = try await store.transaction { try await $0.ledger(account: account) }
            #expect(abs(ledger.reduce(0) { $0 + $1.hours } - hours) < 1e-9)
            #expect(Set(ledger.compactMap(\.replicaId)).count == ledger.count)
        }
        let top = try #require(try await onThread { try client.candidates(dataset.id) }.first)
        #expect(abs(top.periodS - 0.25) / 0.25 < 5e-4)
    }
}
