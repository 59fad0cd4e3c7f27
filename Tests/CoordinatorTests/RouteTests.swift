import CoordinatorCore
import CoordinatorService
import CoordinatorStore
import CoordinatorTestSupport
import Foundation
import Testing
import XunxingHTTPClient
import XunxingProtocol

/// The HTTP layer over real loopback HTTP (libcurl to the coordinator's server): each domain
/// refusal answered with its status and JSON error body, and the routes that need no domain at all.
@Suite("Routes: domain refusals as HTTP answers")
struct RouteTests {
    /// Requests to one coordinator, as a client outside it sends them.
    struct Client: Sendable {
        let baseURL: String

        func execute(_ method: String, _ path: String, headers: [String: String] = [:], body: String? = nil) async throws -> HTTPResponse {
            try await HTTPClient().send(method, url: baseURL + path, headers: headers, body: body.map { Data($0.utf8) })
        }
    }

    /// A coordinator on a fresh SQLite database whose background jobs never wake up.
    static func withCoordinator(_ body: @escaping @Sendable (Coordinator, Client) async throws -> Void) async throws {
        try await CoordinatorFixture.with({ $0.jobInterval = 3600 }) { fixture in
            try await body(fixture.coordinator, Client(baseURL: fixture.baseURL))
        }
    }

    static func error(_ response: HTTPResponse) throws -> APIErrorBody {
        try JSONDecoder().decode(APIErrorBody.self, from: response.body)
    }

    static func text(_ response: HTTPResponse) -> String { String(decoding: response.body, as: UTF8.self) }

    static func bearer(_ secret: String) -> [String: String] { ["Authorization": "Bearer \(secret)", "Content-Type": "application/json"] }

    @Test("health and the OpenAPI document answer without a key; a missing or unknown key is 401 with a JSON error")
    func openRoutes() async throws {
        try await Self.withCoordinator { _, client in
            do {
                let response = try await client.execute("GET", "/api/v1/health")
                #expect(response.status == 200 && Self.text(response) == "ok")
            }
            do {
                let response = try await client.execute("GET", "/api/v1/openapi.yaml")
                #expect(response.status == 200 && response.header("Content-Type") == "application/yaml")
                #expect(Self.text(response).contains("openapi:"))
            }
            do {
                let response = try await client.execute("POST", "/api/v1/work/request", body: "{}")
                #expect(response.status == 401)
                #expect(try Self.error(response).error == "unauthorized")
            }
            do {
                let response = try await client.execute("POST", "/api/v1/work/request", headers: Self.bearer("xxhost_nobody"))
                #expect(response.status == 401)
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
                let response = try await client.execute("POST", "/api/v1/replicas/missing/ack", headers: Self.bearer(keyA))
                #expect(response.status == 404)
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
                let response = try await client.execute("POST", "/api/v1/replicas/\(replica)/ack", headers: Self.bearer(keyB))
                #expect(response.status == 403)
                #expect(try Self.error(response).message == "replica r is assigned to another host")
            }
            try await store.transaction { try await $0.setReplicaState(id: replica, state: .lost) }
            do {
                let response = try await client.execute("POST", "/api/v1/replicas/\(replica)/ack", headers: Self.bearer(keyA))
                #expect(response.status == 409)
                #expect(try Self.error(response).message.contains("reissued"))
            }
            do {
                let response = try await client.execute("POST", "/api/v1/datasets?preset=none", headers: Self.bearer(astronomerKey), body: "x")
                #expect(response.status == 400)
                #expect(try Self.error(response).message.contains("preset 'none' does not exist"))
            }
            do {
                let response = try await client.execute("POST", "/api/v1/datasets?dm_max=-3", headers: Self.bearer(astronomerKey), body: "x")
                #expect(response.status == 400)
                #expect(try Self.error(response).message == "dm_max '-3' is not a non-negative number")
            }
        }
    }
}
