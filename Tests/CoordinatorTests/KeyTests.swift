import CoordinatorCore
import CoordinatorService
import CoordinatorStore
import CoordinatorTestSupport
import Foundation
import Testing
import XunxingClient
import XunxingHTTPClient
import XunxingProtocol
import XunxingSupport

@Suite("Keys: rotation and revocation")
struct KeyTests {
    static func status(_ f: CoordinatorFixture, _ method: String, _ path: String, key: String?) async throws -> (Int, Data) {
        var headers = ["Content-Type": "application/json"]
        if let key { headers["Authorization"] = "Bearer \(key)" }
        let answer = try await HTTPClient().send(method, url: f.baseURL + "/api/v1" + path, headers: headers, body: method == "GET" ? nil : Data("{}".utf8))
        return (answer.status, answer.body)
    }

    @Test("a rotated key stops working and the new one works; a second rotation with the old key is refused", arguments: Backend.allCases)
    func rotation(backend: Backend) async throws {
        try await CoordinatorFixture.with(backend: backend) { f in
            let signup = try await onThread { try CoordinatorClient(baseURL: f.baseURL).signup(email: "rot@example.org", name: "rot") }
            let host = try await f.host(name: "rotating")
            let hostKey = host.client.secret!
            for (old, probe) in [(signup.accountKey, "/volunteers/me"), (hostKey, "/hosts/me")] {
                #expect(try await Self.status(f, "GET", probe, key: old).0 == 200)
                let (code, body) = try await Self.status(f, "POST", "/keys/rotate", key: old)
                #expect(code == 201)
                let new = try JSONDecoder().decode(KeyRotation.self, from: body).key
                #expect(new != old && new.hasPrefix(String(old.prefix(while: { $0 != "_" }))))
                #expect(try await Self.status(f, "GET", probe, key: old).0 == 401, "the old key still works on \(probe)")
                #expect(try await Self.status(f, "GET", probe, key: new).0 == 200)
                #expect(try await Self.status(f, "POST", "/keys/rotate", key: old).0 == 401)
            }
            // Exactly one working key per account and per host after the rotations.
            let active = try await f.coordinator.store.read { try await $0.activeCredentialCount(account: signup.accountID) }
            #expect(active == 1)
        }
    }

    @Test("a volunteer revokes one of their hosts (not another's); an administrator shuts out a whole account", arguments: Backend.allCases)
    func revocation(backend: Backend) async throws {
        try await CoordinatorFixture.with(backend: backend) { f in
            let anonymous = CoordinatorClient(baseURL: f.baseURL)
            let owner = try await onThread { try anonymous.signup(email: "owner@example.org", name: "owner") }
            let volunteer = CoordinatorClient(baseURL: f.baseURL, secret: owner.accountKey)
            let lost = try await onThread { try volunteer.registerHost(HostRegistration(name: "lost", cores: 1, memoryMB: 512, os: "Linux")) }
            let kept = try await onThread { try volunteer.registerHost(HostRegistration(name: "kept", cores: 1, memoryMB: 512, os: "Linux")) }
            let stranger = try await f.host(name: "stranger")
            let strangerAccount = try await onThread { try anonymous.signup(email: "other@example.org", name: "other") }

            // Someone else's host: not found, and it keeps working.
            #expect(try await Self.status(f, "POST", "/hosts/\(stranger.hostID)/revoke", key: owner.accountKey).0 == 404)
            #expect(try await Self.status(f, "POST", "/hosts/\(lost.hostID)/revoke", key: strangerAccount.accountKey).0 == 404)
            #expect(try await Self.status(f, "GET", "/hosts/me", key: stranger.client.secret!).0 == 200)
            // The owner's lost host: revoked; the other host and the account key still work.
            #expect(try await Self.status(f, "POST", "/hosts/\(lost.hostID)/revoke", key: owner.accountKey).0 == 204)
            #expect(try await Self.status(f, "GET", "/hosts/me", key: lost.hostKey).0 == 401)
            #expect(try await Self.status(f, "POST", "/work/request", key: lost.hostKey).0 == 401)
            #expect(try await Self.status(f, "GET", "/hosts/me", key: kept.hostKey).0 == 200)
            #expect(try await Self.status(f, "GET", "/volunteers/me", key: owner.accountKey).0 == 200)

            // The administrator: every key of the account and its hosts, counted.
            let (adminID, admin) = try await f.coordinator.core.accounts.createAccount(role: .admin, name: "root")
            #expect(try await f.coordinator.store.read { try await $0.activeCredentialCount(account: owner.accountID) } == 2)
            #expect(try await Self.status(f, "POST", "/admin/accounts/\(owner.accountID)/revoke", key: admin).0 == 204)
            #expect(try await f.coordinator.store.read { try await $0.activeCredentialCount(account: owner.accountID) } == 0)
            #expect(try await Self.status(f, "GET", "/hosts/me", key: kept.hostKey).0 == 401)
            #expect(try await Self.status(f, "GET", "/volunteers/me", key: owner.accountKey).0 == 401)
            #expect(try await Self.status(f, "GET", "/hosts/me", key: stranger.client.secret!).0 == 200, "another account was touched")
            #expect(try await Self.status(f, "POST", "/admin/accounts/nobody/revoke", key: admin).0 == 404)
            #expect(try await Self.status(f, "POST", "/admin/accounts/\(adminID)/revoke", key: admin).0 == 400)
        }
    }

    @Test("`xunxing key rotate` prints the new key on its last line; `xunxing key revoke-host` shuts a machine out")
    func commandLine() async throws {
        try await CoordinatorFixture.with { f in
            let signup = try await onThread { try CoordinatorClient(baseURL: f.baseURL).signup(email: "cli@example.org", name: "cli") }
            let volunteer = CoordinatorClient(baseURL: f.baseURL, secret: signup.accountKey)
            let host = try await onThread { try volunteer.registerHost(HostRegistration(name: "old", cores: 1, memoryMB: 512, os: "Linux")) }
            let rotated = try await BuiltExecutable.run("xunxing", ["key", "rotate", "--coordinator", f.baseURL, "--token", signup.accountKey])
            #expect(rotated.status == 0, "\(rotated)")
            let new = try #require(rotated.stdout.split(separator: "\n").last.map(String.init))
            #expect(new.hasPrefix("xxvol_") && new != signup.accountKey)
            #expect(try await Self.status(f, "GET", "/volunteers/me", key: signup.accountKey).0 == 401)
            let revoked = try await BuiltExecutable.run("xunxing", ["key", "revoke-host", host.hostID, "--coordinator", f.baseURL, "--token", new])
            #expect(revoked.status == 0, "\(revoked)")
            #expect(try await Self.status(f, "GET", "/hosts/me", key: host.hostKey).0 == 401)
        }
    }
}
