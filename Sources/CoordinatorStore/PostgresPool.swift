import Foundation

/// Up to `limit` PostgreSQL connections, each with a thread of its own (a ``WriterThread``): a
/// transaction runs on its connection's thread, so libpq's blocking calls never hold up the
/// Swift concurrency pool. Connections are opened on demand; a transaction that finds all of
/// them busy waits for the next one given back, in order of arrival; a broken one is dropped.
final class PostgresPool: @unchecked Sendable {
    struct Lease: Sendable {
        let connection: PostgresConnection
        let thread: WriterThread
    }

    private let parameters: [(String, String)]
    private let limit: Int
    private let lock = NSLock()
    private var idle: [Lease] = []
    /// Connections open or being opened.
    private var open = 0
    /// Transactions waiting: each gets a connection, or nil to open one itself.
    private var waiting: [CheckedContinuation<Lease?, Never>] = []
    private var closed = false
    private var opened = 0

    init(parameters: [(String, String)], limit: Int) {
        self.parameters = parameters
        self.limit = max(1, limit)
    }

    /// A connection for one transaction; give it back with ``release(_:)``.
    func acquire() async throws -> Lease {
        let handed: Lease? = await withCheckedContinuation { continuation in
            lock.lock()
            if let lease = idle.popLast() {
                lock.unlock()
                continuation.resume(returning: lease)
            } else if open < limit || closed {
                open += 1
                lock.unlock()
                continuation.resume(returning: nil)
            } else {
                waiting.append(continuation)
                lock.unlock()
            }
        }
        if let handed { return handed }
        do {
            return try await connect()
        } catch {
            freeSlot()
            throw error
        }
    }

    /// A connection is gone (or was never made): the next waiting transaction opens one instead.
    private func freeSlot() {
        let next = lock.withLock { () -> CheckedContinuation<Lease?, Never>? in
            open -= 1
            guard !waiting.isEmpty else { return nil }
            open += 1
            return waiting.removeFirst()
        }
        next?.resume(returning: nil)
    }

    /// Gives a connection back: to the next waiting transaction, to the idle ones, or (not
    /// reusable, or the pool closed) closed on its thread.
    func release(_ lease: Lease) {
        let reusable = lease.connection.isReusable
        lock.lock()
        if !reusable || closed {
            lock.unlock()
            freeSlot()
            Self.close(lease)
            return
        }
        if !waiting.isEmpty {
            let next = waiting.removeFirst()
            lock.unlock()
            next.resume(returning: lease)
        } else {
            idle.append(lease)
            lock.unlock()
        }
    }

    /// Closes the idle connections, and the others as they come back.
    func close() {
        let leases = lock.withLock { () -> [Lease] in
            closed = true
            defer { idle = [] }
            return idle
        }
        for lease in leases { Self.close(lease) }
    }

    private func connect() async throws -> Lease {
        let n = lock.withLock { () -> Int in
            opened += 1
            return opened
        }
        let thread = WriterThread(name: "xunxing-postgres-\(n)")
        let parameters = self.parameters
        do {
            let connection = try await Task(executorPreference: thread) { try PostgresConnection(parameters: parameters) }.value
            return Lease(connection: connection, thread: thread)
        } catch {
            thread.stop()
            throw error
        }
    }

    private static func close(_ lease: Lease) {
        Task(executorPreference: lease.thread) {
            lease.connection.close()
            lease.thread.stop()
        }
    }
}
