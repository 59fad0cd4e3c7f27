import Foundation
import Logging
import PostgresKit
import PostgresNIO
import SQLKit

/// PostgreSQL, for a project that outgrows one machine: several coordinator processes share it.
/// Each transaction takes a pooled connection; rows that concurrent coordinators could both
/// change are locked (`FOR UPDATE`, or skipped with `SKIP LOCKED` where any free row will do),
/// and a transaction that loses a deadlock or a serialisation conflict is run again.
public final class PostgresStorage: SQLStorage {
    public let dialect = SQLDialectKind.postgres
    private let client: PostgresClient
    private let runner: Task<Void, Never>

    private init(client: PostgresClient) {
        self.client = client
        self.runner = Task { await client.run() }
    }

    /// Connects to `url` (`postgres://user[:password]@host[:port]/database[?sslmode=...]`) and
    /// applies pending migrations (serialised across processes by an advisory lock). `password`
    /// is used when the URL has none (from `PGPASSWORD` or a file, so that it never shows in `ps`).
    /// One connection is made first, outside the pool, so that a wrong address, password or
    /// certificate fails the start with PostgreSQL's or TLS's own error instead of being retried.
    public static func connect(
        url: String, password: String? = nil, logger: Logger = Logger(label: "xunxing.store")
    ) async throws -> PostgresStorage {
        let target = try PostgresTarget(url: url, password: password)
        do {
            let probe = try await PostgresConnection.connect(configuration: try target.connectionConfiguration(), id: 0, logger: logger)
            try await probe.close()
        } catch {
            throw StorageError.unreachable(redacted(url), String(reflecting: error))
        }
        let storage = PostgresStorage(client: PostgresClient(configuration: target.clientConfiguration(), backgroundLogger: logger))
        do {
            try await Migrations.apply(to: storage)
        } catch {
            storage.runner.cancel()
            throw error
        }
        return storage
    }

    /// Parses a postgres:// URL into a client configuration (see ``PostgresTarget``).
    public static func configuration(from url: String, password: String? = nil) throws -> PostgresClient.Configuration {
        try PostgresTarget(url: url, password: password).clientConfiguration()
    }

    /// `url` with its password replaced by `***`, for messages and logs.
    public static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? "postgres://***"
    }

    public func transaction<T: Sendable>(_ body: @escaping @Sendable (SQLTransaction) async throws -> T) async throws -> T {
        let fence = LeaseFence.current
        return try await run(begin: "BEGIN") { tx in
            if let fence { try await tx.checkFence(fence) }
            return try await body(tx)
        }
    }

    /// A read-only transaction at REPEATABLE READ: one snapshot for all of `body`, no row locks.
    public func read<T: Sendable>(_ body: @escaping @Sendable (SQLTransaction) async throws -> T) async throws -> T {
        try await run(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", body)
    }

    private func run<T: Sendable>(begin: SQLQueryString, _ body: @escaping @Sendable (SQLTransaction) async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            attempt += 1
            do {
                // Each attempt collects its own after-commit effects; only the committed one's run.
                let effects = AfterCommit()
                let result = try await client.withConnection { connection in
                    let db = connection.sql(queryLogLevel: nil)
                    try await db.raw(begin).run()
                    do {
                        let result = try await body(SQLTransaction(database: db, dialect: .postgres, effects: effects))
                        try await db.raw("COMMIT").run()
                        return result
                    } catch {
                        try? await db.raw("ROLLBACK").run()
                        throw error
                    }
                }
                effects.run()
                return result
            } catch let error as PSQLError where attempt < 5 && Self.isRetryable(error) {
                try await Task.sleep(for: .milliseconds(Int.random(in: 5...50) * attempt))
            }
        }
    }

    static func isRetryable(_ error: PSQLError) -> Bool {
        guard let code = error.serverInfo?[.sqlState] else { return false }
        return code == "40001" || code == "40P01"  // serialization_failure, deadlock_detected
    }

    public func close() async throws {
        runner.cancel()
    }
}

/// Errors opening storage.
public enum StorageError: Error, CustomStringConvertible {
    case invalidURL(String, String)
    /// A job's write was refused: its lease has passed to another holder since it was taken.
    case fenced(job: String, token: Int)
    /// The first connection to the database (URL shown without its password) failed.
    case unreachable(String, String)
    /// The database's schema is at `found`, newer than the newest this build knows (`known`).
    case newerSchema(found: Int, known: Int)

    public var description: String {
        switch self {
        case .invalidURL(let url, let expected): return "database URL '\(url)' is not valid: \(expected)"
        case .unreachable(let url, let reason): return "cannot connect to \(url): \(reason)"
        case .fenced(let job, let token):
            return "job \(job) lost its lease (token \(token) is stale): another coordinator runs it now; nothing more is written for it here"
        case .newerSchema(let found, let known):
            return "the database's schema is at version \(found), newer than this coordinator knows (\(known)): upgrade the coordinator, or point it at another database"
        }
    }
}
