import Foundation
import XunxingSupport

/// Which database a test runs the coordinator on.
public enum Backend: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite, postgres
    public var description: String { rawValue }
}

/// A PostgreSQL server for tests: the one `scripts/test.sh` started (its URL in
/// `XUNXING_TEST_POSTGRES_URL`), or else a throwaway cluster this process starts with Debian's
/// PostgreSQL 15 binaries and stops when it exits. Each test gets a database of its own.
public final class PostgresTestCluster: @unchecked Sendable {
    public static let shared = PostgresTestCluster()
    private let lock = NSLock()
    private var serverURL: String?
    private var startError: String?

    /// A fresh, empty database; its postgres:// URL.
    public func makeDatabase() throws -> String {
        let base = try server()
        let name = "xx_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(20)
        guard let components = URLComponents(string: base), let port = components.port else {
            throw FixtureError.timeout("a usable PostgreSQL URL (got \(base))")
        }
        let result = try Subprocess.run(
            "/usr/bin/psql", ["-h", components.host ?? "127.0.0.1", "-p", String(port), "-U", components.user ?? "postgres",
                              "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", "CREATE DATABASE \(name)"])
        guard result.status == 0 else { throw FixtureError.timeout("CREATE DATABASE: \(result.stderr)") }
        var url = components
        url.path = "/\(name)"
        return url.string!
    }

    private func server() throws -> String {
        lock.lock()
        defer { lock.unlock() }
        if let serverURL { return serverURL }
        if let startError { throw FixtureError.timeout(startError) }
        if let url = ProcessInfo.processInfo.environment["XUNXING_TEST_POSTGRES_URL"], !url.isEmpty {
            serverURL = url
            return url
        }
        do {
            let url = try startThrowawayCluster()
            serverURL = url
            return url
        } catch {
            startError = "PostgreSQL for the tests: \(error) (scripts/test.sh starts one; or set XUNXING_TEST_POSTGRES_URL)"
            throw FixtureError.timeout(startError!)
        }
    }

    private func startThrowawayCluster() throws -> String {
        let bin = "/usr/lib/postgresql/15/bin"
        guard FileManager.default.fileExists(atPath: bin + "/initdb") else {
            throw FixtureError.timeout("no PostgreSQL 15 server binaries in \(bin) (apt-get install postgresql)")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pg-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        _ = try Subprocess.run("/bin/chown", ["postgres:postgres", directory])
        let initdb = try Subprocess.run(
            "/usr/sbin/runuser", ["-u", "postgres", "--", bin + "/initdb", "-D", directory + "/data", "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"])
        guard initdb.status == 0 else { throw FixtureError.timeout("initdb: \(initdb.stderr)") }
        let port = 20000 + Int(getpid() % 20000)
        // The server outlives pg_ctl and would hold pipes open, and Foundation's Process does not
        // always notice such a child exit: spawn and wait directly, output to the log.
        let status = spawnAndWait("/usr/sbin/runuser", [
            "-u", "postgres", "--", bin + "/pg_ctl", "-D", directory + "/data", "-l", directory + "/server.log", "-w", "start",
            "-o", "-p \(port) -c listen_addresses=127.0.0.1 -k \(directory) -c fsync=off -c max_connections=200",
        ])
        guard status == 0 else { throw FixtureError.timeout("pg_ctl start exited \(status); see \(directory)/server.log") }
        PostgresTestCluster.dataDirectoryToStop = directory + "/data"
        atexit {
            guard let data = PostgresTestCluster.dataDirectoryToStop else { return }
            _ = spawnAndWait("/usr/sbin/runuser", ["-u", "postgres", "--", "/usr/lib/postgresql/15/bin/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"])
        }
        return "postgres://postgres@127.0.0.1:\(port)/postgres"
    }

    nonisolated(unsafe) static var dataDirectoryToStop: String?
}

/// posix_spawn with standard input, output and error on /dev/null, then waitpid: the exit status.
func spawnAndWait(_ path: String, _ arguments: [String]) -> Int32 {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    for fd in [0, 1, 2] as [Int32] { posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0) }
    let argv = ([path] + arguments).map { strdup($0) } + [nil]
    defer { for p in argv { free(p) } }
    var pid: pid_t = 0
    guard posix_spawn(&pid, path, &actions, nil, argv, environ) == 0 else { return -1 }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return (status >> 8) & 0xff
}
