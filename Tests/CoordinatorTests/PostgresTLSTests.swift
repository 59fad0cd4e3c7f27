import CoordinatorStore
import CoordinatorTestSupport
import Foundation
import SQLKit
import Testing
import XunxingSupport

@Suite("PostgreSQL over TLS")
struct PostgresTLSTests {
    enum Outcome: Equatable { case connected(tls: Bool), failed(String), timedOut }

    /// Connects, applies the migrations and asks the server whether this session uses TLS; a
    /// connection still not made after 180 s counts as hung. (A refusal comes back in well under
    /// a second and a success in about one alone; the window only guards against a hang on a
    /// machine whose 2 cores the rest of the suite keeps busy.)
    static func attempt(_ url: String, password: String?) async -> Outcome {
        await withTaskGroup(of: Outcome.self) { group in
            group.addTask {
                do {
                    let store = try await PostgresStorage.connect(url: url, password: password)
                    defer { Task { try? await store.close() } }
                    let ssl = try await store.read {
                        try await $0.first("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")?.decode(column: "ssl", as: Bool.self)
                    }
                    return .connected(tls: ssl == true)
                } catch {
                    return .failed(String(describing: error))
                }
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(180))
                return .timedOut
            }
            let first = await group.next()!
            group.cancelAll()
            return first
        }
    }

    @Test("a TLS-only server: verify-full with its CA connects over TLS; no TLS, another CA or a wrong password fail at once with the reason")
    func tlsOnlyServer() async throws {
        let cluster = try await onThread { try PostgresTLSCluster() }
        defer { cluster.stop() }
        let verified = cluster.url + "?sslmode=verify-full&sslrootcert=" + cluster.caPath
        for url in [verified, cluster.url + "?sslmode=verify-ca&sslrootcert=" + cluster.caPath, cluster.url + "?sslmode=require"] {
            let outcome = await Self.attempt(url, password: cluster.password)
            #expect(outcome == .connected(tls: true), "\(url): \(outcome); server log:\n\(cluster.serverLogTail())")
        }
        // The password may be in the URL too (from $XUNXING_DATABASE_URL).
        let inURL = cluster.url.replacingOccurrences(of: "xunxing@", with: "xunxing:\(cluster.password)@") + "?sslmode=require"
        #expect(await Self.attempt(inURL, password: nil) == .connected(tls: true))

        for (url, password, reason) in [
            (cluster.url + "?sslmode=disable", cluster.password, "no encryption"),  // pg_hba's hostnossl reject
            (cluster.url + "?sslmode=verify-full&sslrootcert=" + cluster.strangerCAPath, cluster.password, "certificate verify failed"),
            (verified, "wrong-password", "password authentication failed"),
        ] {
            let outcome = await Self.attempt(url, password: password)
            guard case .failed(let message) = outcome else {
                Issue.record("expected a failure (\(reason)), got \(outcome)")
                continue
            }
            #expect(message.contains(reason) && message.contains("cannot connect to"), "\(message.prefix(600))")
            #expect(!message.contains(cluster.password))
        }
    }

    @Test("database URLs: an unknown sslmode or parameter, or an unreadable CA file, is refused by name, and the password never shows")
    func urlErrors() throws {
        func message(_ url: String) -> String {
            do {
                _ = try PostgresStorage.configuration(from: url)
                return "accepted"
            } catch {
                return String(describing: error)
            }
        }
        let bad = message("postgres://u:hunter2@db/x?sslmode=sometimes")
        #expect(bad.contains("sslmode 'sometimes'") && !bad.contains("hunter2") && bad.contains("u:***@db"), "\(bad)")
        #expect(message("postgres://u@db/x?sslcert=a.pem").contains("unknown parameter 'sslcert'"))
        #expect(message("postgres://u@db/x?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem").contains("'/nonexistent/ca.pem' is not a readable file"))
        #expect(message("postgres://u@db/x?sslmode=verify-full") == "accepted")
        let target = try PostgresStorage.configuration(from: "postgres://u:hunter2@db/x?sslmode=require")
        #expect(!"\(target)".contains("hunter2") && "\(target)".contains("u:***@db"), "\(target)")
        #expect(!PostgresStorage.redacted("postgres://u:hunter2@db:notaport/x").contains("hunter2"))
        #expect(PostgresStorage.redacted("postgres://u:pw@h:5432/d?sslmode=require") == "postgres://u:***@h:5432/d?sslmode=require")
    }
}

@Suite("Secrets stay off the command line")
struct SecretArgumentTests {
    @Test("a password in --database, a secret file others can read, and --sync-secret itself are refused without echoing the secret")
    func refused() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("secrets-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let serve = ["serve", "--data-dir", directory, "--port", "0"]
        let inURL = try await BuiltExecutable.run("xunxing-coordinator", serve + ["--database", "postgres://u:hunter2@127.0.0.1:1/x"])
        #expect(inURL.status != 0 && inURL.stderr.contains("PGPASSWORD") && !(inURL.stderr + inURL.stdout).contains("hunter2"), "\(inURL)")

        let secret = directory + "/sync-secret"
        try "s3cret-value\n".write(toFile: secret, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: secret)
        let open = try await BuiltExecutable.run("xunxing-coordinator", serve + ["--sync-url", "http://127.0.0.1:1/", "--sync-secret-file", secret])
        #expect(open.status != 0 && open.stderr.contains("chmod 600") && !open.stderr.contains("s3cret-value"), "\(open)")

        let onArgv = try await BuiltExecutable.run("xunxing-coordinator", serve + ["--sync-secret", "s3cret-value"])
        #expect(onArgv.status != 0 && onArgv.stderr.contains("--sync-secret"), "\(onArgv)")
    }
}
