import Foundation
import SQLKit

/// Group commit for the single SQLite connection: transactions that arrive while another batch
/// is being written are run one after the other, each in its own savepoint, inside one database
/// transaction with one `COMMIT` (one fsync) for all of them. A caller's `transaction` returns only
/// after the commit holding its changes is durable, so nothing is acknowledged before it is on
/// disk; a transaction that throws is rolled back to its savepoint and leaves the others intact.
///
/// Under light load a batch holds one transaction and this is an ordinary commit; under heavy load
/// the cost of the fsync (~2 ms here) is shared by everything that queued up meanwhile.
final class GroupCommit: @unchecked Sendable {
    /// One queued transaction, its result type erased.
    struct Job {
        /// Runs the body; true when it succeeded (the savepoint is kept).
        let run: @Sendable (SQLTransaction) async -> Bool
        /// Resumes the caller once its batch is committed (nil) or failed as a whole.
        let finish: @Sendable ((any Error)?) -> Void
    }

    private let database: any SQLDatabase
    private let maxBatch: Int
    /// Transactions that may wait while a batch is being written; more fail with ``StorageOverloaded``.
    private let maxQueued: Int
    /// The statement that opens each batch's transaction.
    private let begin: SQLQueryString
    /// Where batches run (nil: the global concurrent executor).
    private let executor: (any TaskExecutor)?
    private let lock = NSLock()
    private var queue: [Job] = []
    private var draining = false

    /// `begin` opens each batch: `BEGIN IMMEDIATE` for the writer (it takes the write lock at once,
    /// so a batch never fails halfway on a lock upgrade); a reader uses `BEGIN` with `maxBatch` 1,
    /// which makes this a serial queue of snapshot transactions on its own connection.
    init(
        database: any SQLDatabase, maxBatch: Int = 256, maxQueued: Int = .max, begin: SQLQueryString = "BEGIN IMMEDIATE",
        executor: (any TaskExecutor)? = nil
    ) {
        self.database = database
        self.maxBatch = maxBatch
        self.maxQueued = maxQueued
        self.begin = begin
        self.executor = executor
    }

    /// Runs `body` in the next batch and returns its result once that batch is committed.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (SQLTransaction) async throws -> T) async throws -> T {
        let box = ResultBox<T>()
        let effects = AfterCommit()
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let job = Job(
                run: { tx in
                    do {
                        box.result = .success(try await body(tx.collecting(into: effects)))
                        return true
                    } catch {
                        box.result = .failure(error)
                        return false
                    }
                },
                finish: { error in continuation.resume(with: error.map { .failure($0) } ?? .success(())) })
            let start = lock.withLock { () -> Bool? in
                if draining && queue.count >= maxQueued { return nil }
                queue.append(job)
                if draining { return false }
                draining = true
                return true
            }
            guard let start else {
                continuation.resume(throwing: StorageOverloaded(waiting: maxQueued))
                return
            }
            if start { Task(executorPreference: executor) { await self.drain() } }
        }
        // Committed; a job whose savepoint was rolled back threw, and its effects never run.
        let result = try box.result!.get()
        effects.run()
        return result
    }

    /// Writes batches until the queue is empty.
    private func drain() async {
        while true {
            let jobs = lock.withLock { () -> [Job] in
                let batch = Array(queue.prefix(maxBatch))
                queue.removeFirst(batch.count)
                if batch.isEmpty { draining = false }
                return batch
            }
            if jobs.isEmpty { return }
            await write(jobs)
        }
    }

    private func write(_ jobs: [Job]) async {
        let tx = SQLTransaction(database: database, dialect: .sqlite)
        do {
            try await database.raw(begin).run()
        } catch {
            for job in jobs { job.finish(error) }
            return
        }
        do {
            if jobs.count == 1 {
                // Alone in its batch: no savepoint needed, its failure rolls back the whole transaction.
                guard await jobs[0].run(tx) else {
                    try await database.raw("ROLLBACK").run()
                    jobs[0].finish(nil)
                    return
                }
            } else {
                for job in jobs {
                    try await database.raw("SAVEPOINT job").run()
                    if await job.run(tx) {
                        try await database.raw("RELEASE job").run()
                    } else {
                        try await database.raw("ROLLBACK TO job").run()
                        try await database.raw("RELEASE job").run()
                    }
                }
            }
            try await database.raw("COMMIT").run()
            for job in jobs { job.finish(nil) }
        } catch {
            // The batch as a whole could not be written: none of it happened.
            try? await database.raw("ROLLBACK").run()
            for job in jobs { job.finish(error) }
        }
    }
}

/// Carries a job's result from the writer back to its caller.
private final class ResultBox<T: Sendable>: @unchecked Sendable {
    var result: Result<T, any Error>?
}

/// The store's queue of transactions is full: the caller should try again shortly (the API answers
/// 503 with Retry-After). Nothing of the refused transaction happened.
public struct StorageOverloaded: Error, CustomStringConvertible {
    /// Transactions that were already waiting.
    public let waiting: Int
    /// Seconds after which a retry is likely to be accepted.
    public let retryAfter: Double = 1

    public var description: String { "the database is busy (\(waiting) transactions waiting): try again shortly" }
}
