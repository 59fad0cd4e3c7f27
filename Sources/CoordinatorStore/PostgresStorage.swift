import Foundation
import Logging
import SQLKit

/// PostgreSQL, for a project that outgrows one machine: several coordinator processes share it.
/// Each transaction takes a pooled connection (libpq, on a thread of its own); rows that
/// concurrent coordinators could both change are locked (`FOR UPDATE`, or skipped with
/// `SKIP LOCKED` where any free row will do), and a transaction that loses a deadlock or a
/// serialisation conflict is run again.
public final class PostgresStorage: SQLStorage {
    public let dialect = SQLDialectKind.postgres
    private let pool: PostgresPool
    private let logger: Logger

    private init(pool: PostgresPool, logger: Logger) {
        self.pool = pool
        self.logger = logger
    }

    /// Connects to `url` (`postgres://user[:password]@host[:port]/database[?sslmode=...]`) and
    /// applies pending migrations (serialised across processes by an advisory lock). `password`
    /// is used when the URL has none (from `PGPASSWORD` or a file, so that it never shows in `ps`).
    /// A wrong address, password or certificate fails the start with libpq's or the server's own
    /// message.
    public static func connect(
        url: String, password: String? = nil, logger: Logger = Logger(label: "xunxing.store")
    ) async throws -> PostgresStorage {
        let target = try PostgresTarget(url: url, password: password)
        let storage = PostgresStorage(pool: PostgresPool(parameters: target.parameters, limit: 8), logger: logger)
        do {
            storage.pool.release(try await storage.pool.acquire())
        } catch {
            storage.pool.close()
            throw StorageError.unreachable(redacted(url), String(describing: error))
        }
        do {
            try await Migrations.apply(to: storage)
        } catch {
            storage.pool.close()
            throw error
        }
        return storage
    }

    /// Parses and checks a postgres:// URL (see ``PostgresTarget``) without connecting.
    public static func configuration(from url: String, password: String? = nil) throws -> PostgresTarget {
        try PostgresTarget(url: url, password: password)
    }

    /// `url` with its password replaced by `***`, for messages and logs.
    public static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url) else {
            // Unparsable: it may still hold a password.
            return url.contains("@") ? "(a database URL that cannot be parsed)" : url
        }
        guard components.password != nil else { return url }
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

    private func run<T: Sendable>(begin: String, _ body: @escaping @Sendable (SQLTransaction) async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            attempt += 1
            // Each attempt collects its own after-commit effects; only the committed one's run.
            let effects = AfterCommit()
            let lease = try await pool.acquire()
            let database = DirectSQLDatabase(connection: lease.connection, kind: .postgres, logger: logger)
            let outcome: Result<T, any Error>
            do {
                outcome = .success(try await withTaskExecutorPreference(lease.thread) {
                    _ = try lease.connection.query(begin, [])
                    do {
                        let result = try await body(SQLTransaction(database: database, dialect: .postgres, effects: effects))
                        _ = try lease.connection.query("COMMIT", [])
                        return result
                    } catch {
                        _ = try? lease.connection.query("ROLLBACK", [])
                        throw error
                    }
                })
            } catch {
                outcome = .failure(error)
            }
            pool.release(lease)
            switch outcome {
            case .success(let result):
                effects.run()
                return result
            case .failure(let error as PostgresFailure) where attempt < 5 && error.isRetryable:
                try await Task.sleep(for: .milliseconds(Int.random(in: 5...50) * attempt))
            case .failure(let error):
                throw error
            }
        }
    }

    public func close() async throws {
        pool.close()
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
