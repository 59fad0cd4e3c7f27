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

/// Every protected route with the roles allowed on it; the public ones separately. Together they
/// must name every path of the OpenAPI document, so a new route cannot slip in untested.
private let protectedRoutes: [(method: String, path: String, roles: Set<String>)] = [
    ("POST", "/hosts", ["volunteer"]),
    ("POST", "/datasets", ["astronomer", "admin"]),
    ("GET", "/datasets", ["astronomer", "admin"]),
    ("GET", "/datasets/{id}", ["astronomer", "admin"]),
    ("GET", "/datasets/{id}/candidates", ["astronomer", "admin"]),
    ("GET", "/datasets/{id}/single-pulse", ["astronomer", "admin"]),
    ("POST", "/datasets/{id}/publish", ["astronomer", "admin"]),
    ("POST", "/datasets/{id}/unpublish", ["astronomer", "admin"]),
    ("GET", "/volunteers/me", ["volunteer"]),
    ("PUT", "/volunteers/me/platform", ["volunteer"]),
    ("GET", "/volunteers/{id}/statement", ["volunteer", "admin"]),
    ("GET", "/hosts/me", ["host"]),
    ("GET", "/admin/ledger", ["admin"]),
    ("POST", "/admin/ledger/{id}/reverse", ["admin"]),
    ("POST", "/keys/rotate", ["admin", "astronomer", "volunteer", "host"]),
    ("POST", "/hosts/{id}/revoke", ["volunteer", "admin"]),
    ("POST", "/admin/accounts/{id}/revoke", ["admin"]),
    ("POST", "/admin/stats/regenerate", ["admin"]),
    ("POST", "/work/request", ["host"]),
    ("POST", "/replicas/{id}/ack", ["host"]),
    ("GET", "/workunits/{id}/payload", ["host"]),
    ("POST", "/replicas/{id}/result", ["host"]),
    ("POST", "/replicas/{id}/abandon", ["host"]),
]
private let publicPaths: Set<String> = ["/health", "/openapi.yaml", "/volunteers", "/volunteers/{id}", "/leaderboard", "/stats/{file}"]

@Suite("Security: credentials, roles, hostile input", .serialized)
struct SecurityTests {
    let http = HTTPClient()

    func call(_ method: String, _ url: String, secret: String? = nil, body: Data? = nil) async throws -> HTTPResponse {
        let http = self.http
        return try await onThread {
            var headers = ["Content-Type": "application/json"]
            if let secret { headers["Authorization"] = "Bearer \(secret)" }
            return try http.send(method, url: url, headers: headers, body: body ?? (method == "GET" ? nil : Data("{}".utf8)))
        }
    }

    @Test("every protected route: 401 without or with a made-up key, 403 for every other role; the table covers the OpenAPI document")
    func everyRouteEveryRole() async throws {
        try await CoordinatorFixture.with { f in
            let api = f.baseURL + "/api/v1"
            let spec = String(decoding: try await call("GET", api + "/openapi.yaml").body, as: UTF8.self)
            let documented = Set(spec.split(separator: "\n").filter { $0.hasPrefix("  /") && $0.hasSuffix(":") }.map { String($0.dropFirst(2).dropLast()) })
            #expect(documented == Set(protectedRoutes.map(\.path)).union(publicPaths), "routes missing from the security table")

            let (_, admin) = try await f.coordinator.core.accounts.createAccount(role: .admin, name: "root")
            let astronomer = try await f.astronomer().secret!
            let account = try await onThread { try CoordinatorClient(baseURL: f.baseURL).signup(email: "sec@example.org", name: "sec") }
            let host = try await f.host(name: "h").client.secret!
            let keys = ["admin": admin, "astronomer": astronomer, "volunteer": account.accountKey, "host": host]
            for route in protectedRoutes {
                let url = api + route.path.replacingOccurrences(of: "{id}", with: "x")
                #expect(try await call(route.method, url).status == 401, "\(route.method) \(route.path) without a key")
                #expect(try await call(route.method, url, secret: "xxhost_made-up").status == 401, "\(route.method) \(route.path) made-up key")
                for (role, key) in keys where !route.roles.contains(role) {
                    let status = try await call(route.method, url, secret: key).status
                    #expect(status == 403, "\(route.method) \(route.path) as \(role): \(status)")
                }
            }
        }
    }

    @Test("bodies over each route's limit are refused with 413")
    func oversizedBodies() async throws {
        try await CoordinatorFixture.with({ $0.maxResultBytes = 1 << 20 }) { f in
            let api = f.baseURL + "/api/v1"
            let account = try await onThread { try CoordinatorClient(baseURL: f.baseURL).signup(email: "big@example.org", name: "big") }
            let host = try await f.host(name: "h").client.secret!
            let padding = String(repeating: " ", count: 2 << 20)
            let big = Data(("{\"name\": \"x\"" + padding + "}").utf8)
            #expect(try await call("POST", api + "/volunteers", body: big).status == 413)
            #expect(try await call("POST", api + "/hosts", secret: account.accountKey, body: big).status == 413)
            #expect(try await call("PUT", api + "/volunteers/me/platform", secret: account.accountKey, body: big).status == 413)
            #expect(try await call("POST", api + "/work/request", secret: host, body: big).status == 413)
            #expect(try await call("POST", api + "/replicas/x/result", secret: host, body: big).status == 413)
            #expect(try await call("GET", api + "/health").status == 200, "the coordinator still answers")
        }
    }

    @Test("path traversal in names and ids reaches no file outside the data directory")
    func pathTraversal() async throws {
        try await CoordinatorFixture.with { f in
            let api = f.baseURL + "/api/v1"
            let astronomer = try await f.astronomer()
            let file = try f.simulatedObservation()
            let name = "../../../../tmp/xunxing-escape-\(UUID().uuidString)"
            let dataset = try await onThread { try astronomer.submit(file: file, name: name, preset: nil, dmMax: 60, accelMax: nil, sha256: nil) }
            #expect(dataset.name == name, "the name is kept as text")
            // The stored path, with '..' resolved, is inside the data directory, and no file named
            // after the escape exists anywhere under the temporary directory.
            let stored = try await f.coordinator.store.transaction { try await $0.dataset(id: dataset.id) }
            let resolved = URL(fileURLWithPath: stored!.filePath).standardizedFileURL.resolvingSymlinksInPath().path
            let data = URL(fileURLWithPath: f.coordinator.configuration.dataDirectory).standardizedFileURL.resolvingSymlinksInPath().path
            #expect(resolved.hasPrefix(data + "/"), "\(resolved) is outside \(data)")
            let marker = String(name.split(separator: "/").last!)
            let temporary = URL(fileURLWithPath: NSTemporaryDirectory()).resolvingSymlinksInPath().path
            let escaped = (FileManager.default.enumerator(atPath: temporary)?.allObjects as? [String] ?? []).filter { $0.contains(marker) }
            #expect(escaped.isEmpty, "\(escaped)")
            let host = try await f.host(name: "../../etc/passwd").client.secret!
            for id in ["..%2F..%2F..%2Fetc%2Fpasswd", "....//....//etc/passwd", "%2e%2e%2f%2e%2e%2fetc%2fpasswd"] {
                let r = try await call("GET", api + "/workunits/\(id)/payload", secret: host)
                #expect([400, 403, 404].contains(r.status), "\(id): \(r.status)")
                #expect(!String(decoding: r.body, as: UTF8.self).contains("root:"))
            }
            for file in ["../../coordinator.sqlite", "..%2F..%2Fcoordinator.sqlite", "%2e%2e%2fcoordinator.sqlite"] {
                let r = try await call("GET", api + "/stats/\(file)")
                #expect([400, 404].contains(r.status), "stats \(file): \(r.status)")
            }
        }
    }

    @Test("SQL metacharacters in every text field are stored as text", arguments: Backend.allCases)
    func sqlMetacharacters(backend: Backend) async throws {
        try await CoordinatorFixture.with(backend: backend, { $0.syncSecret = "shared" }) { f in
            let hostile = #"Robert'); DROP TABLE accounts;-- " \ % _ ; SELECT * FROM credentials"#
            let account = try await onThread {
                try CoordinatorClient(baseURL: f.baseURL).signup(email: "o'hara\"--@example.org", name: hostile)
            }
            let volunteer = CoordinatorClient(baseURL: f.baseURL, secret: account.accountKey)
            let host = try await onThread { try volunteer.registerHost(HostRegistration(name: hostile, cores: 1, memoryMB: 512, os: hostile)) }
            let code = f.linkCode(profileID: hostile)
            let profile = try await onThread { try volunteer.linkPlatform(code: code) }
            #expect(profile.name == hostile && profile.sync?.platformProfileID == hostile)
            let astronomer = try await f.astronomer()
            let dataset = try await onThread {
                try astronomer.submit(file: try f.simulatedObservation(), name: hostile, preset: nil, dmMax: 60, accelMax: nil, sha256: nil)
            }
            #expect(dataset.name == hostile)
            let stored = try await f.coordinator.store.transaction { tx in
                (try await tx.account(id: account.accountID), try await tx.host(id: host.hostID), try await tx.dataset(id: dataset.id))
            }
            #expect(stored.0?.name == hostile && stored.0?.email == "o'hara\"--@example.org")
            #expect(stored.1?.name == hostile && stored.1?.os == hostile)
            #expect(stored.2?.name == hostile)
            // The tables are all still there and nothing else was read out.
            #expect(try await onThread { try volunteer.myProfile() }.name == hostile)
            #expect(try await call("GET", f.baseURL + "/api/v1/leaderboard").status == 200)
        }
    }

    @Test("fabricated candidates earn nothing; a billion claimed CPU seconds earn no more than the estimate")
    func cheaters() async throws {
        try await CoordinatorFixture.with { f in
            let astronomer = try await f.astronomer()
            let dataset = try await f.submitAndSplit(try f.simulatedObservation(samples: 1 << 16), astronomer: astronomer, dmMax: 400)
            #expect(dataset.units.total >= 4)
            let honest = try await f.host(name: "honest")
            let liar = try await f.host(name: "liar")
            let boaster = try await f.host(name: "boaster")
            // The liar and the boaster take their first units before the honest host starts, so each
            // surely has some; then all three work until the dataset is done.
            let lied = try await liar.work(limit: 2, behaviour: .fabricate)
            let boasted1 = try await boaster.work(limit: 2, behaviour: .claimHugeCPU)
            #expect(lied.count == 2 && boasted1.count == 2)
            async let h = honest.work()
            async let l = liar.work(behaviour: .fabricate)
            async let b = boaster.work(behaviour: .claimHugeCPU)
            _ = try await (h, l, b)
            let liarsReplicas = try await f.coordinator.store.transaction { tx -> [ReplicaRecord] in
                var all: [ReplicaRecord] = []
                for unit in try await tx.workUnits(dataset: dataset.id) { all += try await tx.replicas(workUnit: unit.id) }
                return all.filter { $0.hostId == liar.hostID }
            }
            #expect(liarsReplicas.count >= 2)
            #expect(liarsReplicas.allSatisfy { $0.state != ReplicaState.valid }, "a fabricated result was accepted")
            let status = try await onThread { try astronomer.dataset(dataset.id) }
            #expect(status.units.validated == status.units.total)

            let ledger = { (host: TestHost) async throws -> [LedgerEntryRecord] in
                let account = try await f.coordinator.store.transaction { try await $0.host(id: host.hostID) }!.accountId
                return try await f.coordinator.store.transaction { try await $0.ledger(account: account) }
            }
            #expect(try await ledger(liar).reduce(0) { $0 + $1.hours } == 0, "the liar earned hours")
            let cost = try await f.coordinator.store.transaction { tx -> [String: Double] in
                var cost: [String: Double] = [:]
                for unit in try await tx.workUnits(dataset: dataset.id) {
                    let valid = try await tx.replicas(workUnit: unit.id).filter { $0.state == ReplicaState.valid }
                    cost[unit.id] = HoursLedger.creditedHours(unit: unit, valid: valid)
                }
                return cost
            }
            let boasted = try await ledger(boaster)
            #expect(!boasted.isEmpty)
            for entry in boasted {
                #expect(abs(entry.hours - cost[entry.workUnitId!]!) < 1e-12, "hours follow the estimate, not the claim")
                #expect(entry.reportedCpuSeconds == 1e9, "the claim is kept beside it for display")
            }
        }
    }

    @Test("a key over its rate limit gets 429 with Retry-After; other keys are not affected; it refills by the clock")
    func rateLimit() async throws {
        let clock = ManualClock()
        try await CoordinatorFixture.with(clock: clock, { $0.rateLimit = 2; $0.rateBurst = 10 }) { f in
            let api = f.baseURL + "/api/v1"
            let noisy = try await f.host(name: "noisy").client.secret!
            let quiet = try await f.host(name: "quiet").client.secret!
            clock.advance(by: 10)  // both buckets full again after registration's calls
            // With time standing still: exactly the burst, then 429s telling the wait for one token.
            var statuses: [Int] = []
            var retryAfter: Set<String> = []
            for _ in 0..<40 {
                let r = try await call("GET", api + "/hosts/me", secret: noisy)
                statuses.append(r.status)
                if r.status == 429 { retryAfter.insert(r.header("retry-after") ?? "none") }
            }
            #expect(statuses == Array(repeating: 200, count: 10) + Array(repeating: 429, count: 30), "\(statuses)")
            #expect(retryAfter == ["1"], "one token at 2 per second is half a second away, rounded up: \(retryAfter)")
            #expect(try await call("GET", api + "/hosts/me", secret: quiet).status == 200)
            // Half a second refills exactly one token at 2 per second; 4.9 more seconds refill nine.
            clock.advance(by: 0.5)
            #expect(try await call("GET", api + "/hosts/me", secret: noisy).status == 200, "the budget refills")
            #expect(try await call("GET", api + "/hosts/me", secret: noisy).status == 429)
            clock.advance(by: 4.9)
            var refilled = 0
            for _ in 0..<20 where try await call("GET", api + "/hosts/me", secret: noisy).status == 200 { refilled += 1 }
            #expect(refilled == 9, "9.8 tokens refilled")
            clock.advance(by: 3600)
            refilled = 0
            for _ in 0..<20 where try await call("GET", api + "/hosts/me", secret: noisy).status == 200 { refilled += 1 }
            #expect(refilled == 10, "an hour refills only up to the burst")
            let metrics = String(decoding: try await call("GET", f.baseURL + "/metrics").body, as: UTF8.self)
            #expect(metrics.contains("xunxing_requests_rate_limited_total"))
        }
    }
}
