import CoordinatorCore
import CoordinatorService
import CoordinatorStore
import CoordinatorTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import XunxingProtocol

/// The HTTP layer in process (HummingbirdTesting's router framework: no socket, no server
/// process): each domain refusal answered with its status and JSON error body, and the routes
/// that need no domain at all.
@Suite("Routes in process: domain refusals as HTTP answers")
struct RouteTests {
    /// A coordinator on a fresh SQLite database whose background jobs never wake up.
    static func withCoordinator(_ body: @escaping @Sendable (Coordinator, any TestClientProtocol) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("routes-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var configuration = CoordinatorConfiguration(
            dataDirectory: directory.path, presetsDirectory: CoordinatorFixture.packageRoot.appendingPathComponent("workunits").path)
        configuration.defaultPreset = "tiny"
        configuration.jobInterval = 3600
        var logger = Logger(label: "test.routes")
        logger.logLevel = .warning
        let coordinator = try await Coordinator.open(configuration, logger: logger)
        try await coordinator.application().test(.router) { client in try await body(coordinator, client) }
        try await coordinator.store.close()
    }

    static func error(_ response: TestResponse) throws -> APIErrorBody {
        try JSONDecoder().decode(APIErrorBody.self, from: Data(buffer: response.body))
    }

    static func bearer(_ secret: String) -> HTTPFields { [.authorization: "Bearer \(secret)", .contentType: "application/json"] }

    @Test("health and the OpenAPI document answer without a key; a missing or unknown key is 401 with a JSON error")
    func openRoutes() async throws {
        try await Self.withCoordinator { _, client in
            do {
                let response = try await client.execute(uri: "/api/v1/health", method: .get) { $0 }
                #expect(response.status == .ok && String(buffer: response.body) == "ok")
            }
            do {
                let response = try await client.execute(uri: "/api/v1/openapi.yaml", method: .get) { $0 }
                #expect(response.status == .ok && response.headers[.contentType] == "application/yaml")
                #expect(String(buffer: response.body).contains("openapi:"))
            }
            do {
                let response = try await client.execute(uri: "/api/v1/work/request", method: .post, body: ByteBuffer(string: "{}")) { $0 }
                #expect(response.status == .unauthorized)
                #expect(try Self.error(response).error == "unauthorized")
            }
            do {
                let response = try await client.execute(uri: "/api/v1/work/request", method: .post, headers: Self.bearer("xxhost_nobody")) { $0 }
                #expect(response.status == .unauthorized)
            }
        }
    }

    @Test("DomainError to HTTP: not found 404, another host's replica 403, a reissued replica 409, an invalid option 400, each with its sentence")
    func refusals() async throws {
        try await Self.withCoordinator { coordinator, client in
            let accounts = coordinator.core.accounts
            let (volunteerA, _) = try await accounts.signUp(email: "a@example.org", name: "a")
            let (hostA, keyA) = try await accounts.registerHost(account: volunteerA, name: "a", cores: 1, memoryMB: 1024, os: "Linux")
            let (volunteerB, _) = try await accounts.signUp(email: "b@example.org", name: "b")
            let (_, keyB) = try await accounts.registerHost(account: volunteerB, name: "b", cores: 1, memoryMB: 1024, os: "Linux")
            let (_, astronomerKey) = try await accounts.createAccount(role: .astronomer, name: "astronomer")

            do {
                let response = try await client.execute(uri: "/api/v1/replicas/missing/ack", method: .post, headers: Self.bearer(keyA)) { $0 }
                #expect(response.status == .notFound)
                #expect(try Self.error(response) == APIErrorBody(error: "not_found", message: "replica missing does not exist"))
            }
            // A replica of host A's, through the domain; host B may not touch it.
            let store = coordinator.store
            let replica = try await store.transaction { tx -> String in
                try await tx.insertDataset(DatasetRecord(
                    id: "d", ownerId: volunteerA, name: "d", preset: "tiny", state: .searching, filePath: "/nonexistent", sha256: "",
                    sizeBytes: 0, dmTrials: 1, duration: 1, createdAt: 0))
                try await tx.insertWorkUnit(WorkUnitRecord(
                    id: "u", datasetId: "d", seq: 0, state: .active, payloadPath: "/nonexistent", payloadSha256: "", payloadSize: 0,
                    estimatedCost: 1, duration: 1, reportingThreshold: 6, seriesCount: 1, targetResults: 2, maxReplicas: 4,
                    deadlineSeconds: 3600, canonicalReplica: nil, createdAt: 0, validatedAt: nil, dmFirst: 0, dmCount: 1))
                try await tx.insertReplica(id: "r", workUnit: "u", at: 0)
                return "r"
            }
            let sent = try await coordinator.core.scheduler.assign(
                host: hostA, account: volunteerA, network: nil, request: WorkRequest(cores: 1, memoryMB: 1024, speed: 1, seconds: 1))
            #expect(sent.assignments.map(\.replicaID) == [replica])
            do {
                let response = try await client.execute(uri: "/api/v1/replicas/\(replica)/ack", method: .post, headers: Self.bearer(keyB)) { $0 }
                #expect(response.status == .forbidden)
                #expect(try Self.error(response).message == "replica r is assigned to another host")
            }
            try await store.transaction { try await $0.setReplicaState(id: replica, state: .lost) }
            do {
                let response = try await client.execute(uri: "/api/v1/replicas/\(replica)/ack", method: .post, headers: Self.bearer(keyA)) { $0 }
                #expect(response.status == .conflict)
                #expect(try Self.error(response).message.contains("reissued"))
            }
            do {
                let response = try await client.execute(uri: "/api/v1/datasets?preset=none", method: .post, headers: Self.bearer(astronomerKey),
                                     body: ByteBuffer(string: "x")) { $0 }
                #expect(response.status == .badRequest)
                #expect(try Self.error(response).message.contains("preset 'none' does not exist"))
            }
            do {
                let response = try await client.execute(uri: "/api/v1/datasets?dm_max=-3", method: .post, headers: Self.bearer(astronomerKey),
                                     body: ByteBuffer(string: "x")) { $0 }
                #expect(response.status == .badRequest)
                #expect(try Self.error(response).message == "dm_max '-3' is not a non-negative number")
            }
        }
    }
}
