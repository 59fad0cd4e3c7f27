import Foundation
import Logging
import SQLKit

/// The embedded default: one SQLite file in WAL mode with full synchronous commits. SQLite has one
/// writer at a time anyway, so one connection serves every transaction in turn, on a thread of
/// its own (``WriterThread``) that calls SQLite directly, with group commit (``GroupCommit``):
/// transactions that queue up share one durable commit.
public final class SQLiteStorage: SQLStorage {
    public let dialect = SQLDialectKind.sqlite
    public let path: String
    private let connection: DirectSQLite
    private let thread: WriterThread
    private let writer: GroupCommit

    private init(path: String, connection: DirectSQLite, logger: Logger) {
        self.path = path
        self.connection = connection
        self.thread = WriterThread(name: "xunxing-sqlite")
        self.writer = GroupCommit(database: DirectSQLDatabase(connection: connection, logger: logger), executor: thread)
    }

    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    public static func open(path: String, logger: Logger = Logger(label: "xunxing.store")) async throws -> SQLiteStorage {
        let connection = try DirectSQLite(path: path)
        for pragma in ["PRAGMA busy_timeout=10000", "PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON"] {
            _ = try connection.query(pragma, [])
        }
        let storage = SQLiteStorage(path: path, connection: connection, logger: logger)
        try await Migrations.apply(to: storage)
        return storage
    }

    public func transaction<T: Sendable>(_ body: @escaping @Sendable (SQLTransaction) async throws -> T) async throws -> T {
        try await writer.transaction(body)
    }

    /// Closes the connection (on the writer thread, after the transactions already queued).
    public func close() async throws {
        let connection = self.connection
        await Task(executorPreference: thread) { connection.close() }.value
        thread.stop()
    }
}
