import CoordinatorStore
import CoordinatorTestSupport
import Foundation
import LoadGeneration
import Testing
import XunxingSupport

/// Scaled-down versions of scripts/chaos.sh: a thousand small units, a fleet of simulated hosts,
/// and a coordinator that is killed with SIGKILL again and again, or reached only through a proxy
/// that resets and stalls connections. Afterwards the database must show every unit validated,
/// every accepted report stored, and every valid result credited exactly once.
@Suite("Faults: kill -9 and a hostile network lose nothing", .serialized)
struct FaultTests {
    static let units = 1000

    /// Seeds `units` into a fresh data directory (with the coordinator stopped) and returns it.
    func seeded(units: Int) async throws -> (directory: String, seeded: LoadSeeder.Seeded) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("faults-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let store = try await SQLiteStorage.open(path: directory + "/coordinator.sqlite")
        let seeded = try await LoadSeeder(activeUnits: units).seed(into: store, directory: directory + "/loadgen")
        try await store.close()
        return (directory, seeded)
    }

    /// A coordinator process on the seeded directory, with quick background jobs and a short
    /// acknowledgement timeout so that replicas lost in a fault come back within the test.
    func startCoordinator(_ directory: String) throws -> CoordinatorProcess {
        let server = CoordinatorProcess(
            dataDirectory: directory, arguments: ["--default-preset", "tiny", "--job-interval", "0.2", "--acknowledge-timeout", "2"])
        try server.start()
        return server
    }

    func audit(_ directory: String, _ seeded: LoadSeeder.Seeded, _ report: FleetReport) async throws -> LoadAudit {
        let store = try await SQLiteStorage.open(path: directory + "/coordinator.sqlite")
        defer { Task { try? await store.close() } }
        return try await LoadAudit.run(store: store, dataset: seeded.datasetID, unitCost: seeded.unitCost, accepted: report.accepted)
    }

    @Test("kill -9 the coordinator five times during 1,000 units with 24 hosts")
    func repeatedKills() async throws {
        let (directory, seeded) = try await seeded(units: Self.units)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try startCoordinator(directory)
        defer { server.kill() }

        var configuration = SimulatedFleet.Configuration(coordinator: server.baseURL)
        configuration.hosts = 24
        configuration.connections = 6
        configuration.httpTimeout = 5
        let fleet = SimulatedFleet(configuration)
        let hosts = try await onThread { try fleet.register() }
        let run = Task { try await onThread { fleet.run(hosts) } }

        // Kill whenever another tenth of the results is in, five times, restarting at once.
        var kills = 0
        let store = try await SQLiteStorage.open(path: directory + "/coordinator.sqlite")
        while kills < 5 {
            try await Task.sleep(for: .milliseconds(700))
            let validated = try await store.read { try await $0.unitCounts(dataset: seeded.datasetID).validated }
            if validated >= Self.units { break }
            if validated >= (kills + 1) * Self.units / 10 {
                server.kill()
                try server.start()
                kills += 1
            }
        }
        try await store.close()
        let report = try await run.value
        #expect(kills == 5, "the run finished after \(kills) kills")
        #expect(!report.stalled && report.duplicateAssignments == 0)
        let audit = try await audit(directory, seeded, report)
        #expect(audit.passed, "\(audit.problems)")
        #expect(audit.unitsValidated == Self.units)
        #expect(report.accepted.count >= Self.units)
    }

    @Test("a clean network: every request of the fleet is timed once, under its endpoint")
    func cleanRunCountsEveryRequest() async throws {
        let (directory, seeded) = try await seeded(units: 60)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try startCoordinator(directory)
        defer { server.kill() }
        var configuration = SimulatedFleet.Configuration(coordinator: server.baseURL)
        configuration.hosts = 6
        configuration.connections = 2
        let fleet = SimulatedFleet(configuration)
        let hosts = try await onThread { try fleet.register() }
        let report = try await onThread { fleet.run(hosts) }
        #expect(!report.stalled && report.transportErrors == 0 && report.throttled == 0 && report.duplicateAssignments == 0)
        // With nothing lost or refused, each assignment is acknowledged once and reported once.
        #expect(report.refused.isEmpty, "\(report.refused)")
        #expect(report.latency["ack"]?.count == report.replicasAssigned)
        #expect(report.latency["report"]?.count == report.replicasAssigned)
        #expect(report.latency["signup"]?.count == nil, "registration is timed in its own run, not the fleet's")
        #expect((report.latency["request"]?.count ?? 0) >= report.replicasAssigned / max(1, configuration.hosts))
        #expect(report.latency.keys.allSatisfy { !$0.hasSuffix("other") }, "\(report.latency.keys)")
        let audit = try await audit(directory, seeded, report)
        #expect(audit.passed, "\(audit.problems)")
        #expect(audit.unitsValidated == 60)
    }

    @Test("1,000 units through a proxy that resets and stalls connections")
    func hostileNetwork() async throws {
        let (directory, seeded) = try await seeded(units: Self.units)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try startCoordinator(directory)
        defer { server.kill() }
        let proxy = FaultyProxy(targetPort: server.port, faults: .init(cutRate: 0.03, stallRate: 0.01, stallSeconds: 0.5))
        let port = try proxy.start()
        defer { proxy.stop() }

        var configuration = SimulatedFleet.Configuration(coordinator: "http://127.0.0.1:\(port)")
        configuration.hosts = 24
        configuration.connections = 6
        configuration.httpTimeout = 3
        let fleet = SimulatedFleet(configuration)
        let hosts = try await onThread { () -> [SimulatedHost] in
            // Registration goes direct: the proxy is for the work-unit traffic.
            try SimulatedFleet(SimulatedFleet.Configuration(coordinator: server.baseURL)).registerHosts(count: 24)
        }
        let report = try await onThread { fleet.run(hosts) }
        let stats = proxy.stats
        #expect(stats.cuts >= 20 && stats.stalls >= 5, "the proxy misbehaved too little: \(stats)")
        #expect(report.transportErrors >= 20)
        #expect(!report.stalled && report.duplicateAssignments == 0)
        let audit = try await audit(directory, seeded, report)
        #expect(audit.passed, "\(audit.problems)")
        #expect(audit.unitsValidated == Self.units)
    }
}
