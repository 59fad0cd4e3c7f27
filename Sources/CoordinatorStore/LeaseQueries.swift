import Foundation
import SQLKit

extension SQLTransaction {
    /// Takes (or renews) the lease on job `name` for `holder` until `now + ttl`, if it is free,
    /// expired, or already this holder's. True when `holder` has it.
    public func acquireLease(_ name: String, holder: String, now: Double, ttl: Double) async throws -> Bool {
        let rows = try await all("""
            INSERT INTO job_leases (name, holder, expires_at) VALUES (\(bind: name), \(bind: holder), \(bind: now + ttl))
            ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
            WHERE job_leases.expires_at < \(bind: now) OR job_leases.holder = excluded.holder
            RETURNING holder
            """)
        return try rows.first?.decode(column: "holder", as: String.self) == holder
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
