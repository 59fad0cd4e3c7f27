import Foundation
import Logging
import SQLKit

/// The embedded default: one SQLite file in WAL mode with full synchronous commits. SQLite has one
/// writer at a time anyway, so one connection serves every transaction in turn, on a thread of
/// its own (``WriterThread``) that calls SQLite directly, with group commit (``GroupCommit``):
/// transactions that queue up share one durable commit. Reads (``read(_:)``) go through a second,
/// query-only connection on a thread of its own: in WAL mode a reader sees the last commit and
/// neither waits for the writer nor blocks it.
public final class SQLiteStorage: SQLStorage {
    public let dialect = SQLDialectKind.sqlite
    public let path: String
    private let connection: DirectSQLite
    private let thread: WriterThread
    private let writer: GroupCommit
    private let readConnection: DirectSQLite
    private let readThread: WriterThread
    private let reader: GroupCommit

    private init(path: String, connection: DirectSQLite, readConnection: DirectSQLite, logger: Logger) {
        self.path = path
        self.connection = connection
        self.thread = WriterThread(name: "xunxing-sqlite")
        self.writer = GroupCommit(database: DirectSQLDatabase(connection: connection, logger: logger), executor: thread)
        self.readConnection = readConnection
        self.readThread = WriterThread(name: "xunxing-sqlite-read")
        self.reader = GroupCommit(
            database: DirectSQLDatabase(connection: readConnection, logger: logger), maxBatch: 1, begin: "BEGIN", executor: readThread)
    }

    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    public static func open(path: String, logger: Logger = Logger(label: "xunxing.store")) async throws -> SQLiteStorage {
        let connection = try DirectSQLite(path: path)
        for pragma in ["PRAGMA busy_timeout=10000", "PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON"] {
            _ = try connection.query(pragma, [])
        }
        let readConnection = try DirectSQLite(path: path)
        for pragma in ["PRAGMA busy_timeout=10000", "PRAGMA query_only=ON"] {
            _ = try readConnection.query(pragma, [])
        }
        let storage = SQLiteStorage(path: path, connection: connection, readConnection: readConnection, logger: logger)
        try await Migrations.apply(to: storage)
        return storage
    }

    public func transaction<T: Sendable>(_ body: @escaping @Sendable (SQLTransaction) async throws -> T) async throws -> T {
        try await writer.transaction(body)
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (SQLTransaction) async throws -> T) async throws -> T {
        try await reader.transaction(body)
    }

    /// Closes the connection (on the writer thread, after the transactions already queued).
    public func close() async throws {
        let (connection, readConnection) = (self.connection, self.readConnection)
        await Task(executorPreference: readThread) { readConnection.close() }.value
        readThread.stop()
        await Task(executorPreference: thread) { connection.close() }.value
        thread.stop()
    }
}
