import Foundation
import XunxingSupport

/// A throwaway PostgreSQL 15 server that accepts only TLS connections with a password (scram),
/// its certificate signed by a CA made for it, for the tests of the coordinator's TLS settings.
/// Started with Debian's binaries like ``PostgresTestCluster``; ``stop()`` removes it.
public final class PostgresTLSCluster: @unchecked Sendable {
    /// `postgres://xunxing@127.0.0.1:PORT/postgres`, without password or TLS parameters.
    public let url: String
    /// The `xunxing` role's password.
    public let password = "tls-" + UUID().uuidString.prefix(8)
    /// The CA that signed the server's certificate (PEM).
    public let caPath: String
    /// Another CA, which signed nothing the server presents (PEM).
    public let strangerCAPath: String
    private let directory: String

    /// The last `lines` lines of the server's log, for a test's failure message.
    public func serverLogTail(lines: Int = 20) -> String {
        let text = (try? String(contentsOfFile: directory + "/server.log", encoding: .utf8)) ?? "(no server log)"
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    public init() throws {
        let bin = "/usr/lib/postgresql/15/bin"
        guard FileManager.default.fileExists(atPath: bin + "/initdb") else {
            throw FixtureError.timeout("no PostgreSQL 15 server binaries in \(bin) (apt-get install postgresql)")
        }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("pg-tls-\(UUID().uuidString)").path
        let tls = directory + "/tls"
        try FileManager.default.createDirectory(atPath: tls, withIntermediateDirectories: true)
        caPath = tls + "/ca.pem"
        strangerCAPath = tls + "/stranger.pem"
        func run(_ path: String, _ arguments: [String]) throws {
            let result = try Subprocess.run(path, arguments)
            guard result.status == 0 else { throw FixtureError.timeout("\(path) \(arguments.first ?? ""): \(result.stderr)") }
        }
        let openssl = "/usr/bin/openssl"
        for (name, subject) in [("ca", "/CN=xunxing test CA"), ("stranger", "/CN=someone else's CA")] {
            try run(openssl, ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", subject,
                              "-keyout", "\(tls)/\(name).key", "-out", "\(tls)/\(name).pem"])
        }
        try "subjectAltName=IP:127.0.0.1,DNS:localhost\n".write(toFile: tls + "/san.ext", atomically: true, encoding: .utf8)
        try run(openssl, ["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
                          "-keyout", "\(tls)/server.key", "-out", "\(tls)/server.csr"])
        try run(openssl, ["x509", "-req", "-in", "\(tls)/server.csr", "-CA", caPath, "-CAkey", "\(tls)/ca.key",
                          "-CAcreateserial", "-days", "2", "-extfile", "\(tls)/san.ext", "-out", "\(tls)/server.pem"])
        try "\(password)\n".write(toFile: tls + "/pw", atomically: true, encoding: .utf8)
        try run("/bin/chown", ["-R", "postgres:postgres", directory])
        try run("/bin/chmod", ["600", "\(tls)/server.key"])
        let initdb = try Subprocess.run("/usr/sbin/runuser", [
            "-u", "postgres", "--", bin + "/initdb", "-D", directory + "/data", "-U", "xunxing", "--pwfile", tls + "/pw",
            "--auth-host", "scram-sha-256", "--auth-local", "trust", "-E", "UTF8", "--no-sync",
        ])
        guard initdb.status == 0 else { throw FixtureError.timeout("initdb: \(initdb.stderr)") }
        // TLS or nothing: connections over TCP without it are rejected.
        try """
            local all all trust
            hostssl all all 127.0.0.1/32 scram-sha-256
            hostnossl all all 127.0.0.1/32 reject
            """.write(toFile: directory + "/data/pg_hba.conf", atomically: true, encoding: .utf8)
        try run("/bin/chown", ["postgres:postgres", directory + "/data/pg_hba.conf"])
        // Below Linux's ephemeral range (32768-60999), where the tests' servers get their ports.
        let port = 10000 + Int.random(in: 0..<10000)
        let status = spawnAndWait("/usr/sbin/runuser", [
            "-u", "postgres", "--", bin + "/pg_ctl", "-D", directory + "/data", "-l", directory + "/server.log", "-w", "start",
            "-o", "-p \(port) -c listen_addresses=127.0.0.1 -k \(directory) -c fsync=off -c ssl=on "
                + "-c ssl_cert_file=\(tls)/server.pem -c ssl_key_file=\(tls)/server.key",
        ])
        guard status == 0 else { throw FixtureError.timeout("pg_ctl start exited \(status); see \(directory)/server.log") }
        url = "postgres://xunxing@127.0.0.1:\(port)/postgres"
    }

    /// Stops the server and removes its files.
    public func stop() {
        _ = spawnAndWait("/usr/sbin/runuser", ["-u", "postgres", "--", "/usr/lib/postgresql/15/bin/pg_ctl", "-D", directory + "/data", "-m", "immediate", "-w", "stop"])
        try? FileManager.default.removeItem(atPath: directory)
    }
}
