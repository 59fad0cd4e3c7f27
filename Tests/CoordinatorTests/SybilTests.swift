import CoordinatorService
import CoordinatorTestSupport
import Foundation
import Testing
import XunxingClient
import XunxingProtocol

/// Limits on what one person can set up: hosts per account.
@Suite("Sybil limits")
struct SybilTests {
    @Test("an account registers at most the configured hosts, also when eight registrations race: counted", arguments: Backend.allCases)
    func hostsPerAccount(backend: Backend) async throws {
        try await CoordinatorFixture.with(backend: backend, { $0.maxHostsPerAccount = 3 }) { f in
            let key = try await onThread {
                try CoordinatorClient(baseURL: f.baseURL).signup(email: "many@example.org", name: "many").accountKey
            }
            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for i in 0..<8 {
                    group.addTask {
                        do {
                            _ = try await onThread {
                                try CoordinatorClient(baseURL: f.baseURL, secret: key)
                                    .registerHost(HostRegistration(name: "h\(i)", cores: 1, memoryMB: 512, os: "Linux"))
                            }
                            return true
                        } catch {
                            #expect("\(error)".contains("most one account may register (3)"), "\(error)")
                            return false
                        }
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 3, "\(outcomes)")
        }
    }
}
