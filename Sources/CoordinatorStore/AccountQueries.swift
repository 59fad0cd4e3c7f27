import Foundation
import SQLKit

extension SQLTransaction {
    public func insertAccount(_ a: AccountRecord) async throws {
        try await run("""
            INSERT INTO accounts (id, role, name, email, created_at)
            VALUES (\(bind: a.id), \(bind: a.role.rawValue), \(bind: a.name), \(bind: a.email), \(bind: a.createdAt))
            """)
    }

    public func account(id: String) async throws -> AccountRecord? {
        try await record(AccountRecord.self, "SELECT * FROM accounts WHERE id = \(bind: id)")
    }

    public func account(email: String) async throws -> AccountRecord? {
        try await record(AccountRecord.self, "SELECT * FROM accounts WHERE email = \(bind: email)")
    }

    public func insertCredential(_ c: CredentialRecord) async throws {
        try await run("""
            INSERT INTO credentials (secret_hash, kind, account_id, host_id, created_at)
            VALUES (\(bind: c.secretHash), \(bind: c.kind.rawValue), \(bind: c.accountId), \(bind: c.hostId), \(bind: c.createdAt))
            """)
    }

    /// The key with this hash, unless it was revoked.
    public func credential(hash: String) async throws -> CredentialRecord? {
        try await record(CredentialRecord.self, "SELECT * FROM credentials WHERE secret_hash = \(bind: hash) AND revoked_at IS NULL")
    }

    /// Revokes one key; false if it was unknown or already revoked.
    public func revokeCredential(hash: String, at time: Double) async throws -> Bool {
        try await !all("""
            UPDATE credentials SET revoked_at = \(bind: time) WHERE secret_hash = \(bind: hash) AND revoked_at IS NULL RETURNING kind
            """).isEmpty
    }

    /// Revokes every key of a host; returns how many were working.
    public func revokeCredentials(host: String, at time: Double) async throws -> Int {
        try await all("""
            UPDATE credentials SET revoked_at = \(bind: time) WHERE host_id = \(bind: host) AND revoked_at IS NULL RETURNING kind
            """).count
    }

    /// Revokes every key of an account and of its hosts; returns how many were working.
    public func revokeCredentials(account: String, at time: Double) async throws -> Int {
        try await all("""
            UPDATE credentials SET revoked_at = \(bind: time) WHERE account_id = \(bind: account) AND revoked_at IS NULL RETURNING kind
            """).count
    }

    /// Keys of an account (and its hosts) that still work.
    public func activeCredentialCount(account: String) async throws -> Int {
        try await count("SELECT COUNT(*) AS n FROM credentials WHERE account_id = \(bind: account) AND revoked_at IS NULL")
    }

    public func insertHost(_ h: HostRecord) async throws {
        try await run("""
            INSERT INTO hosts (id, account_id, name, cores, memory_mb, os, speed, valid_streak, invalid_count, created_at, last_seen)
            VALUES (\(bind: h.id), \(bind: h.accountId), \(bind: h.name), \(bind: h.cores), \(bind: h.memoryMb), \(bind: h.os),
                    \(bind: h.speed), \(bind: h.validStreak), \(bind: h.invalidCount), \(bind: h.createdAt), \(bind: h.lastSeen))
            """)
    }

    /// Hosts registered by an account.
    public func hostCount(account: String) async throws -> Int {
        try await count("SELECT COUNT(*) AS n FROM hosts WHERE account_id = \(bind: account)")
    }

    public func host(id: String) async throws -> HostRecord? {
        try await record(HostRecord.self, "SELECT * FROM hosts WHERE id = \(bind: id)")
    }

    /// Records what a host said about itself when it asked for work. Its cores may go down, never
    /// above what it registered with, and with its speed they can only lower the daily cap on its
    /// hours (a work request is only a claim).
    public func touchHost(id: String, cores: Int, memoryMB: Int, speed: Double, at time: Double) async throws {
        try await run("""
            UPDATE hosts SET cores = CASE WHEN cores < \(bind: cores) THEN cores ELSE \(bind: cores) END,
                   memory_mb = \(bind: memoryMB), speed = \(bind: speed), last_seen = \(bind: time)
            WHERE id = \(bind: id)
            """)
    }

    /// Extends or resets a host's run of valid results.
    public func recordValidation(hostID: String, valid: Bool) async throws {
        if valid {
            try await run("UPDATE hosts SET valid_streak = valid_streak + 1 WHERE id = \(bind: hostID)")
        } else {
            try await run("UPDATE hosts SET valid_streak = 0, invalid_count = invalid_count + 1 WHERE id = \(bind: hostID)")
        }
    }
}
