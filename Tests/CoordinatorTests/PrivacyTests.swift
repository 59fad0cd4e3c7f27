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

/// What the public pages and API show: only what their owners chose.
@Suite("Privacy of pages and API", .serialized)
struct PrivacyTests {
    static func page(_ f: CoordinatorFixture, _ path: String) async throws -> (Int, String) {
        let response = try await HTTPClient().send("GET", url: f.baseURL + path)
        return (response.status, String(decoding: response.body, as: UTF8.self))
    }

    @Test("a dataset and its candidates are on the public pages only while its owner publishes them; nobody else can publish it")
    func datasetsPrivateUntilPublished() async throws {
        try await CoordinatorFixture.with { f in
            let owner = try await f.astronomer()
            let other = try await f.astronomer()
            let path = try f.simulatedObservation()
            let status = try await onThread { try owner.submit(file: path, name: "secret-survey-field", preset: "tiny", dmMax: 60, accelMax: nil, sha256: nil) }
            try await f.waitUntil(timeout: 30, "split") { try await onThread { try owner.dataset(status.id).state } != "splitting" }
            // A finished candidate list, so the candidate page would exist if it were public.
            async let a = try await f.host(name: "a").work()
            async let b = try await f.host(name: "b").work()
            _ = try await (a, b)
            try await f.waitUntil(timeout: 30, "complete") { try await onThread { try owner.dataset(status.id).state } == "complete" }
            #expect(try await onThread { try owner.candidates(status.id) }.count > 0)

            func visible() async throws -> [Bool] {
                let home = try await Self.page(f, "/"), list = try await Self.page(f, "/datasets")
                let dataset = try await Self.page(f, "/datasets/\(status.id)")
                let candidate = try await Self.page(f, "/datasets/\(status.id)/candidates/0")
                #expect(Set([dataset.0, candidate.0]).count == 1, "dataset \(dataset.0), candidate \(candidate.0)")
                return [home.1.contains("secret-survey-field"), list.1.contains("secret-survey-field"), dataset.0 == 200, candidate.0 == 200]
            }
            #expect(try await visible() == [false, false, false, false])
            #expect(try await onThread { try owner.dataset(status.id).publishedAt } == nil)
            // Another astronomer can neither see nor publish it.
            let refused = await #expect(throws: CoordinatorClientError.self) { try await onThread { try other.publish(status.id) } }
            #expect(refused?.status == 404)
            #expect(try await visible() == [false, false, false, false])

            let published = try await onThread { try owner.publish(status.id) }
            #expect(published.publishedAt != nil)
            #expect(try await visible() == [true, true, true, true])
            // Still the owner's through the API: publishing is for the pages.
            let stillRefused = await #expect(throws: CoordinatorClientError.self) { try await onThread { try other.dataset(status.id) } }
            #expect(stillRefused?.status == 404)

            #expect(try await onThread { try owner.publish(status.id, false) }.publishedAt == nil)
            #expect(try await visible() == [false, false, false, false])
        }
    }

    @Test("a volunteer's public profile, page and the host export show no host names, accounts or platform link; the volunteer's own key sees them")
    func volunteersShowOnlyWhatIsPublic() async throws {
        try await CoordinatorFixture.with({ $0.syncURL = "http://127.0.0.1:9/unreachable"; $0.syncSecret = "shared" }) { f in
            let signup = try await onThread { try CoordinatorClient(baseURL: f.baseURL).signup(email: "dana@example.org", name: "Dana") }
            let me = CoordinatorClient(baseURL: f.baseURL, secret: signup.accountKey)
            _ = try await onThread { try me.registerHost(HostRegistration(name: "dana-home-laptop", cores: 4, memoryMB: 1024, os: "Linux")) }
            let code = f.linkCode(profileID: "platform-profile-4711")
            _ = try await onThread { try me.linkPlatform(code: code) }
            let own = try await onThread { try me.profile(volunteer: signup.accountID) }
            #expect(own.hosts.map(\.name) == ["dana-home-laptop"] && own.sync?.platformProfileID == "platform-profile-4711")

            let (status, body) = try await Self.page(f, "/api/v1/volunteers/\(signup.accountID)")
            #expect(status == 200)
            for secret in ["dana-home-laptop", "platform-profile-4711", "last_error", "failures"] { #expect(!body.contains(secret), "public profile shows \(secret)") }
            let anonymous = try WireCoding.decoder().decode(VolunteerProfile.self, from: Data(body.utf8))
            #expect(anonymous.hosts.map(\.name) == ["host 1"] && anonymous.hosts.map(\.id) == [""] && anonymous.sync == nil)
            // Another volunteer's key sees the public profile.
            let other = try await onThread { try CoordinatorClient(baseURL: f.baseURL).signup(email: "eve@example.org", name: "Eve") }
            let seenByOther = try await onThread { try CoordinatorClient(baseURL: f.baseURL, secret: other.accountKey).profile(volunteer: signup.accountID) }
            #expect(seenByOther == anonymous)

            let page = try await Self.page(f, "/volunteers/\(signup.accountID)")
            #expect(page.0 == 200 && page.1.contains("Dana") && !page.1.contains("dana-home-laptop") && !page.1.contains("platform-profile-4711"))
            for file in ["hosts.csv", "hosts.json"] {
                let export = try await Self.page(f, "/api/v1/stats/\(file)")
                #expect(export.0 == 200 && !export.1.contains("dana-home-laptop") && !export.1.contains(signup.accountID), "\(file): \(export.1)")
            }
        }
    }

    @Test("/metrics answers loopback clients and administrators only")
    func metricsForOperators() async throws {
        try await CoordinatorFixture.with({ $0.trustedProxies = ["127.0.0.1"] }) { f in
            func metrics(from address: String?, key: String?) async throws -> Int {
                var headers: [String: String] = [:]
                if let address { headers["X-Forwarded-For"] = address }
                if let key { headers["Authorization"] = "Bearer \(key)" }
                return try await HTTPClient().send("GET", url: f.baseURL + "/metrics", headers: headers).status
            }
            let (_, admin) = try await f.coordinator.core.accounts.createAccount(role: .admin, name: "operator")
            let volunteer = try await onThread { try CoordinatorClient(baseURL: f.baseURL).signup(email: "v@example.org", name: "V") }.accountKey
            #expect(try await metrics(from: nil, key: nil) == 200)
            #expect(try await metrics(from: "203.0.113.9", key: nil) == 401)
            #expect(try await metrics(from: "203.0.113.9", key: volunteer) == 403)
            #expect(try await metrics(from: "203.0.113.9", key: admin) == 200)
        }
    }

    @Test("linking a platform profile needs a code signed by the platform, unexpired, unused, for a profile nobody else linked")
    func platformLinkNeedsTheCode() async throws {
        try await CoordinatorFixture.with({ $0.syncSecret = "shared-with-platform" }) { f in
            func volunteer(_ name: String) async throws -> CoordinatorClient {
                let s = try await onThread { try CoordinatorClient(baseURL: f.baseURL).signup(email: "\(name)@example.org", name: name) }
                return CoordinatorClient(baseURL: f.baseURL, secret: s.accountKey)
            }
            let owner = try await volunteer("owner"), thief = try await volunteer("thief"), other = try await volunteer("other")
            func link(_ who: CoordinatorClient, _ code: String) async -> Int {
                do {
                    _ = try await onThread { try who.linkPlatform(code: code) }
                    return 200
                } catch let error as CoordinatorClientError {
                    return error.status ?? -1
                } catch {
                    return -2
                }
            }
            let now = Date().timeIntervalSince1970
            // The attacks: a bare profile id, a code signed with another key, an expired code, one
            // valid for a year, a tampered profile id.
            let forged = PlatformLinkCode.make(profileID: "victim", expires: now + 600, nonce: "n1", secret: "guessed")
            let expired = PlatformLinkCode.make(profileID: "victim", expires: now - 1, nonce: "n2", secret: "shared-with-platform")
            let yearLong = PlatformLinkCode.make(profileID: "victim", expires: now + 365 * 86400, nonce: "n3", secret: "shared-with-platform")
            let genuine = f.linkCode(profileID: "victim", nonce: "n4")
            var parts = genuine.split(separator: ".").map(String.init)
            parts[1] = "YXR0YWNrZXI"  // "attacker"
            let tampered = parts.joined(separator: ".")
            for code in ["victim", forged, expired, yearLong, tampered] { #expect(await link(thief, code) == 400, "\(code)") }
            // The owner's genuine code works once; a second use (by anyone) is refused.
            #expect(await link(owner, genuine) == 200)
            #expect(await link(thief, genuine) == 409)
            #expect(await link(owner, genuine) == 409)
            // A fresh code for the same profile cannot take it for another volunteer.
            #expect(await link(other, f.linkCode(profileID: "victim")) == 409)
            let linked = try await f.coordinator.store.read { try await $0.accountLinked(toProfile: "victim") }
            let ownerID = try await onThread { try owner.myProfile().id }
            #expect(linked == ownerID)
            #expect(try await onThread { try thief.myProfile().sync } == nil)
        }
    }
}
