import CoordinatorCore
import CoordinatorService
import CoordinatorStore
import CoordinatorTestSupport
import Foundation
import Testing
import XunxingClient
import XunxingProtocol
import XunxingSupport

@Suite("Coordinator and command line as processes", .serialized)
struct ProcessTests {
    @Test("token, signup, submit, status, candidates through the real binaries")
    func commandLine() async throws {
        try await CoordinatorFixture.with({ $0.trustThreshold = 1_000_000 }) { f in
            let data = f.coordinator.configuration.dataDirectory
            // `token create` opens the same database beside the running server.
            let token = try await BuiltExecutable.run("xunxing-coordinator", ["token", "create", "--role", "astronomer", "--name", "Cli", "--data-dir", data])
            #expect(token.status == 0, "\(token.stderr)")
            let secret = try #require(token.stdout.split(separator: "\n").last.map(String.init))
            #expect(secret.hasPrefix("xxast_"))

            let signup = try await BuiltExecutable.run("xunxing", ["signup", "--coordinator", f.baseURL, "--email", "cli@example.org", "--name", "Cli"])
            #expect(signup.status == 0, "\(signup.stderr)")
            #expect(signup.stdout.split(separator: "\n").last?.hasPrefix("xxvol_") == true)

            let environment = ["XUNXING_COORDINATOR": f.baseURL, "XUNXING_TOKEN": secret]
            let file = try f.simulatedObservation(seed: 7)
            let submit = try await BuiltExecutable.run("xunxing", ["submit", file, "--preset", "tiny", "--dm-max", "60"], environment: environment)
            #expect(submit.status == 0, "\(submit.stderr)")
            let id = try #require(submit.stdout.split(separator: "\n").last.map(String.init))

            try await f.waitUntil(timeout: 30, "split") {
                let status = try await BuiltExecutable.run("xunxing", ["status", id, "--format", "json"], environment: environment)
                return status.stdout.contains("\"searching\"")
            }
            let a = try await f.host(name: "a")
            let b = try await f.host(name: "b")
            async let ra = a.work()
            async let rb = b.work()
            _ = try await (ra, rb)
            try await f.waitUntil(timeout: 30, "complete") {
                try await BuiltExecutable.run("xunxing", ["status", id, "--format", "json"], environment: environment).stdout.contains("\"complete\"")
            }
            let status = try await BuiltExecutable.run("xunxing", ["status", id, "--format", "json"], environment: environment)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
            #expect(json["state"] as? String == "complete")
            let units = try #require(json["units"] as? [String: Int])
            #expect(units["total"] == units["validated"] && units["in_progress"] == 0 && units["error"] == 0)

            let candidates = try await BuiltExecutable.run("xunxing", ["candidates", id, "--format", "json"], environment: environment)
            let list = try #require(try JSONSerialization.jsonObject(with: Data(candidates.stdout.utf8)) as? [[String: Any]])
            let top = try #require(list.first)
            for key in ["period_s", "frequency_hz", "dm", "sigma", "harmonics", "accel_m_s2", "snr_folded"] { #expect(top[key] != nil) }
            #expect(abs((top["period_s"] as? Double ?? 0) - 0.1234) / 0.1234 < 5e-4)

            // Without credentials the astronomer commands say what is missing.
            let bare = try await BuiltExecutable.run("xunxing", ["status", id, "--coordinator", f.baseURL], environment: ["XUNXING_TOKEN": ""])
            #expect(bare.status != 0)
            #expect(bare.stderr.contains("--token"))
        }
    }

    @Test("kill -9 during splitting and during the search: nothing is lost, nothing stays stuck")
    func crashAndRestart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("crash-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = CoordinatorProcess(
            dataDirectory: directory,
            arguments: ["--default-preset", "tiny", "--job-interval", "0.2", "--acknowledge-timeout", "2"])
        try server.start()
        defer { server.kill() }
        let token = try await BuiltExecutable.run("xunxing-coordinator", ["token", "create", "--role", "astronomer", "--name", "C", "--data-dir", directory])
        let astronomer = CoordinatorClient(baseURL: server.baseURL, secret: String(token.stdout.split(separator: "\n").last!))
        let file = CoordinatorFixture.dataPath("tutorial.fil")
        let dataset = try await onThread { try astronomer.submit(file: file, name: "t", preset: "tiny", dmMax: nil, accelMax: nil, sha256: nil) }

        // Crash while splitting: the split starts again from the beginning after the restart.
        try await Task.sleep(for: .milliseconds(300))
        server.kill()
        try server.start()
        let client = CoordinatorClient(baseURL: server.baseURL, secret: astronomer.secret)
        let deadline = Date().addingTimeInterval(60)
        while try await onThread({ try client.dataset(dataset.id).state }) == "splitting", Date() < deadline {
            try await Task.sleep(for: .milliseconds(200))
        }
        let split = try await onThread { try client.dataset(dataset.id) }
        #expect(split.state == "searching")

        // Two hosts work; the coordinator is killed while they do.
        let hosts = try await onThread { () -> [TestHost] in
            try ["a", "b"].map { name in
                let account = try CoordinatorClient(baseURL: server.baseURL).signup(email: "\(name)@crash.example", name: name)
                let registration = try CoordinatorClient(baseURL: server.baseURL, secret: account.accountKey)
                    .registerHost(XunxingProtocol.HostRegistration(name: name, cores: 1, memoryMB: 512, os: "Linux"))
                return TestHost(name: name, hostID: registration.hostID, client: CoordinatorClient(baseURL: server.baseURL, secret: registration.hostKey))
            }
        }
        _ = try await hosts[0].work(limit: 3)
        _ = try await hosts[1].work(limit: 2)
        server.kill()
        try server.start()
        async let a = hosts[0].workTolerant()
        async let b = hosts[1].workTolerant()
        _ = try await (a, b)
        let end = Date().addingTimeInterval(60)
        while try await onThread({ try client.dataset(dataset.id).state }) != "complete", Date() < end {
            try await Task.sleep(for: .milliseconds(200))
        }
        let final = try await onThread { try client.dataset(dataset.id) }
        #expect(final.state == "complete")
        #expect(final.units.validated == final.units.total && final.units.total > 0)
        let top = try #require(try await onThread { try client.candidates(dataset.id) }.first)
        #expect(abs(top.periodS - 0.25) / 0.25 < 5e-4)
    }

    @Test("SIGTERM with idle keep-alive connections open: the coordinator exits within 10 s, and every write it acknowledged is there after a restart")
    func sigtermWithIdleConnections() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sigterm-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = CoordinatorProcess(dataDirectory: directory, arguments: ["--job-interval", "0.2"])
        try server.start()
        defer { server.kill() }
        // Keep-alive connections left idle after a request, and connections that never sent one.
        var sockets: [Int32] = []
        defer { for fd in sockets { close(fd) } }
        for i in 0..<6 {
            let fd = try ConnectionLimitTests.connectLoopback(port: server.port)
            sockets.append(fd)
            guard i % 2 == 0 else { continue }
            let request = "GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n"
            _ = request.withCString { write(fd, $0, strlen($0)) }
            var buffer = [UInt8](repeating: 0, count: 512)
            #expect(read(fd, &buffer, buffer.count) > 0)
            #expect(String(decoding: buffer.prefix(12), as: UTF8.self) == "HTTP/1.1 200")
        }
        // Writes acknowledged just before the signal.
        let accounts = try await withThrowingTaskGroup(of: SignupResponse.self) { group in
            for i in 0..<16 {
                group.addTask { try await onThread { try CoordinatorClient(baseURL: server.baseURL).signup(email: "v\(i)@sigterm.example", name: "v\(i)") } }
            }
            return try await group.reduce(into: [SignupResponse]()) { $0.append($1) }
        }
        let (took, status) = try await onThread { () -> (Double, Int32?) in
            let started = Date()
            let status = server.terminate()
            return (Date().timeIntervalSince(started), status)
        }
        #expect(status == 0, "exit status \(String(describing: status)) after SIGTERM")
        print(String(format: "coordinator: SIGTERM to exit with 6 idle connections: %.2f s", took))
        #expect(took < 10, "exit took \(took) s")
        try server.start()
        for account in accounts {
            let profile = try await onThread { try CoordinatorClient(baseURL: server.baseURL).profile(volunteer: account.accountID) }
            #expect(profile.hoursTotal == 0)
        }
    }
}
