import Foundation
import Logging
import SQLKit
import Synchronization

/// The embedded default: one SQLite file in WAL mode with full synchronous commits. SQLite has one
/// writer at a time anyway, so one connection serves every transaction in turn, on a thread of
/// its own (``WriterThread``) that calls SQLite directly, with group commit (``GroupCommit``):
/// transactions that queue up share one durable commit. The queue is bounded: past
/// `writeQueueLimit` waiting transactions a new one fails at once with ``StorageOverloaded``.
///
/// Reads (``read(_:)``) go to a pool of query-only connections, each on a thread of its own, taken
/// in turn: in WAL mode a reader sees the last commit and neither waits for the writer nor blocks
/// it, and pages or exports that read a lot do not queue behind (or in front of) state changes.
public final class SQLiteStorage: SQLStorage {
    public let dialect = SQLDialectKind.sqlite
    public let path: String
    private let connection: DirectSQLite
    private let thread: WriterThread
    private let writer: GroupCommit
    private let readers: [(connection: DirectSQLite, thread: WriterThread, queue: GroupCommit)]
    private let nextReader = Atomic<Int>(0)

    private init(
        path: String, connection: DirectSQLite, readConnections: [DirectSQLite], writeQueueLimit: Int, logger: Logger
    ) {
        self.path = path
        self.connection = connection
        self.thread = WriterThread(name: "xunxing-sqlite")
        self.writer = GroupCommit(
            database: DirectSQLDatabase(connection: connection, kind: .sqlite, logger: logger), maxQueued: writeQueueLimit, executor: thread)
        self.readers = readConnections.enumerated().map { i, c in
            let thread = WriterThread(name: "xunxing-sqlite-read-\(i)")
            let queue = GroupCommit(
                database: DirectSQLDatabase(connection: c, kind: .sqlite, logger: logger), maxBatch: 1, begin: "BEGIN", executor: thread)
            return (c, thread, queue)
        }
    }

    /// Opens (creating if needed) the database at `path` and applies pending migrations, with
    /// `readConnections` connections for reads and at most `writeQueueLimit` transactions waiting
    /// for the writer.
    public static func open(
        path: String, readConnections: Int = 2, writeQueueLimit: Int = 4096, logger: Logger = Logger(label: "xunxing.store")
    ) async throws -> SQLiteStorage {
        let connection = try DirectSQLite(path: path)
        // A 64 MiB page cache per connection and the file mapped for reads: the scheduler's and
        // validator's index walks read pages from memory instead of through read(2), which was
        // 4 % of the coordinator's time under load with SQLite's default 2 MiB cache.
        let memory = ["PRAGMA cache_size=-65536", "PRAGMA mmap_size=1073741824"]
        for pragma in ["PRAGMA busy_timeout=10000", "PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON"] + memory {
            _ = try connection.query(pragma, [])
        }
        var readers: [DirectSQLite] = []
        for _ in 0..<max(1, readConnections) {
            let reader = try DirectSQLite(path: path)
            for pragma in ["PRAGMA busy_timeout=10000", "PRAGMA query_only=ON"] + memory {
                _ = try reader.query(pragma, [])
            }
            readers.append(reader)
        }
        let storage = SQLiteStorage(
            path: path, connection: connection, readConnections: readers, writeQueueLimit: max(1, writeQueueLimit), logger: logger)
        try await Migrations.apply(to: storage)
        return storage
    }

    public func transaction<T: Sendable>(_ body: @escaping @Sendable (SQLTransaction) async throws -> T) async throws -> T {
        let fence = LeaseFence.current
        return try await writer.transaction { tx in
            if let fence { try await tx.checkFence(fence) }
            return try await body(tx)
        }
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (SQLTransaction) async throws -> T) async throws -> T {
        let i = nextReader.add(1, ordering: .relaxed).oldValue
        return try await readers[(i % readers.count + readers.count) % readers.count].queue.transaction(body)
    }

    /// How often the writer's kept statements have been prepared again (``DirectSQLite/repreparations``).
    public func writerRepreparations() async -> Int {
        let connection = self.connection
        return await Task(executorPreference: thread) { connection.repreparations }.value
    }

    /// Closes the connections (each on its own thread, after the transactions already queued).
    public func close() async throws {
        for reader in readers {
            let c = reader.connection
            await Task(executorPreference: reader.thread) { c.close() }.value
            reader.thread.stop()
        }
        let connection = self.connection
        await Task(executorPreference: thread) { connection.close() }.value
        thread.stop()
    }
}
