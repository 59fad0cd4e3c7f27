import Foundation
import SQLKit

/// A ledger entry placed in a platform profile's stream.
public struct StreamedEntry: Sendable, Equatable {
    public var entry: LedgerEntryRecord
    public var profileID: String
    /// 1, 2, 3, ... per platform profile.
    public var profileSeq: Int
}

extension SQLTransaction {
    /// Places a linked volunteer's entries after `synced_seq` in streams, in ledger order: a
    /// reversal goes to the profile that received the entry it reverses, anything else to
    /// `profile` (the current link); each profile's entries are numbered from 1. Returns how
    /// many were placed.
    @discardableResult
    public func placeInStreams(account: String, profile: String) async throws -> Int {
        guard let state = try await volunteerSync(account: account) else { return 0 }
        let entries = try await ledger(account: account, after: state.syncedSeq, limit: 10_000)
        var next: [String: Int] = [:]
        for entry in entries {
            var target = profile
            if let reversed = entry.reverses,
                let row = try await first("SELECT profile_id FROM profile_stream WHERE entry_id = \(bind: reversed)") {
                target = try row.decode(column: "profile_id", as: String.self)
            }
            if next[target] == nil {
                next[target] = try await count("SELECT COALESCE(MAX(profile_seq), 0) AS n FROM profile_stream WHERE profile_id = \(bind: target)") + 1
            }
            try await run("""
                INSERT INTO profile_stream (entry_id, profile_id, account_id, profile_seq, acknowledged)
                VALUES (\(bind: entry.id), \(bind: target), \(bind: account), \(bind: next[target]!), 0)
                """)
            next[target]! += 1
        }
        if let last = entries.last {
            try await run("UPDATE volunteer_sync SET synced_seq = \(bind: last.volunteerSeq) WHERE account_id = \(bind: account)")
        }
        return entries.count
    }

    /// A volunteer's placed entries the platform has not acknowledged: the first profile's (by
    /// name), oldest first, at most `limit`.
    public func unacknowledgedStream(account: String, limit: Int) async throws -> [StreamedEntry] {
        let rows = try await all("""
            SELECT s.profile_id AS stream_profile, s.profile_seq AS stream_seq, l.*
            FROM profile_stream s JOIN hours_ledger l ON l.id = s.entry_id
            WHERE s.account_id = \(bind: account) AND s.acknowledged = 0
              AND s.profile_id = (SELECT MIN(profile_id) FROM profile_stream
                                  WHERE account_id = \(bind: account) AND acknowledged = 0)
            ORDER BY s.profile_seq LIMIT \(literal: limit)
            """)
        return try rows.map { row in
            StreamedEntry(
                entry: try row.decode(model: LedgerEntryRecord.self, keyDecodingStrategy: SnakeCaseColumns.strategy),
                profileID: try row.decode(column: "stream_profile", as: String.self),
                profileSeq: try row.decode(column: "stream_seq", as: Int.self))
        }
    }

    /// Marks entries acknowledged by the platform.
    public func acknowledgeStream(entries ids: [String]) async throws {
        guard !ids.isEmpty else { return }
        try await run("UPDATE profile_stream SET acknowledged = 1 WHERE entry_id IN \(SQLBind.group(ids))")
    }

    /// Entries of linked volunteers (one, or all when `account` is nil) not yet acknowledged by
    /// the platform: not yet placed in a stream, or placed and waiting.
    public func pendingEntryCount(account: String?) async throws -> Int {
        let ledgerOf: SQLQueryString = account.map { "AND l.account_id = \(bind: $0)" } ?? ""
        let streamOf: SQLQueryString = account.map { "AND account_id = \(bind: $0)" } ?? ""
        let unplaced = try await count("""
            SELECT COUNT(*) AS n FROM hours_ledger l JOIN volunteer_sync s ON s.account_id = l.account_id
            WHERE s.platform_profile_id IS NOT NULL AND l.volunteer_seq > s.synced_seq \(ledgerOf)
            """)
        return unplaced + (try await count("SELECT COUNT(*) AS n FROM profile_stream WHERE acknowledged = 0 \(streamOf)"))
    }
}
