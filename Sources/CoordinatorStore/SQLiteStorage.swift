import Foundation
import Logging
import NIOCore
import NIOPosix
import SQLKit
import SQLiteKit

/// The embedded default: one SQLite file in WAL mode with full synchronous commits. SQLite has one
/// writer at a time anyway, so one connection serves every transaction in turn, with group
/// commit (``GroupCommit``): transactions that queue up share one durable commit.
public final class SQLiteStorage: SQLStorage {
    public let dialect = SQLDialectKind.sqlite
    public let path: String
    private let connection: SQLiteConnection
    private let writer: GroupCommit

    private init(path: String, connection: SQLiteConnection) {
        self.path = path
        self.connection = connection
        self.writer = GroupCommit(database: connection.sql())
    }

    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    public static func open(path: String, logger: Logger = Logger(label: "xunxing.store")) async throws -> SQLiteStorage {
        let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        let db = connection.sql()
        for pragma in ["PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON", "PRAGMA busy_timeout=10000"] {
            try await db.raw(SQLQueryString(pragma)).run()
        }
        let storage = SQLiteStorage(path: path, connection: connection)
        try await Migrations.apply(to: storage)
        return storage
    }

    public func transaction<T: Sendable>(_ body: @escaping @Sendable (SQLTransaction) async throws -> T) async throws -> T {
        try await writer.transaction(body)
    }

    public func close() async throws {
        try await connection.close()
    }
}
