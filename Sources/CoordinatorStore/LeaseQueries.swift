import Foundation
import SQLKit

/// A job lease's fencing token: while it is set (``current``, a task-local value that
/// `withLease`-style callers bind around a job), every write transaction first checks that the
/// lease still has this token, and fails with ``StorageError/fenced(job:token:)`` otherwise. A
/// coordinator that stalled past its lease (a long pause, a slow disk) and lost the job to another
/// cannot then commit anything more for it.
public struct LeaseFence: Sendable, Equatable {
    public var name: String
    public var token: Int
    public init(name: String, token: Int) {
        self.name = name
        self.token = token
    }

    @TaskLocal public static var current: LeaseFence?
}

extension SQLTransaction {
    /// Takes (or renews) the lease on job `name` for `holder` until `now + ttl`, if it is free,
    /// expired, or already this holder's; returns its fencing token if `holder` has it. The token
    /// grows by one each time the lease changes hands or is taken again after expiring; a renewal
    /// in time keeps it.
    public func acquireLease(_ name: String, holder: String, now: Double, ttl: Double) async throws -> Int? {
        let rows = try await all("""
            INSERT INTO job_leases (name, holder, expires_at, token) VALUES (\(bind: name), \(bind: holder), \(bind: now + ttl), 1)
            ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at,
                token = CASE WHEN job_leases.holder = excluded.holder AND job_leases.expires_at >= \(bind: now)
                             THEN job_leases.token ELSE job_leases.token + 1 END
            WHERE job_leases.expires_at < \(bind: now) OR job_leases.holder = excluded.holder
            RETURNING holder, token
            """)
        guard let row = rows.first, try row.decode(column: "holder", as: String.self) == holder else { return nil }
        return try row.decode(column: "token", as: Int.self)
    }

    /// Throws ``StorageError/fenced(job:token:)`` unless lease `fence.name` still has `fence.token`
    /// (on PostgreSQL its row stays locked to the end of the transaction, so it cannot change hands
    /// before this transaction commits).
    public func checkFence(_ fence: LeaseFence) async throws {
        let lock: SQLQueryString = dialect == .postgres ? " FOR UPDATE" : ""
        let row = try await first("SELECT token FROM job_leases WHERE name = \(bind: fence.name)\(lock)")
        let token = try row?.decode(column: "token", as: Int.self)
        guard token == fence.token else { throw StorageError.fenced(job: fence.name, token: fence.token) }
    }

    /// Gives a lease up early.
    public func releaseLease(_ name: String, holder: String) async throws {
        try await run("DELETE FROM job_leases WHERE name = \(bind: name) AND holder = \(bind: holder)")
    }

    /// Locks a row for the rest of the transaction where concurrent writers exist (PostgreSQL);
    /// SQLite's transactions already exclude each other.
    public func lockRow(table: LockableTable, id: String) async throws {
        guard dialect == .postgres else { return }
        switch table {
        case .workUnits: try await run("SELECT id FROM work_units WHERE id = \(bind: id) FOR UPDATE")
        case .accounts: try await run("SELECT id FROM accounts WHERE id = \(bind: id) FOR UPDATE")
        case .hosts: try await run("SELECT id FROM hosts WHERE id = \(bind: id) FOR UPDATE")
        }
    }
}

/// Tables whose rows `lockRow` can lock.
public enum LockableTable: Sendable {
    case workUnits, accounts, hosts
}
