import Foundation
import SQLKit

/// Per-volunteer totals for profiles, statements, the leaderboard and stats exports.
public struct VolunteerTotals: Codable, Sendable, Equatable {
    public var accountId: String
    public var name: String
    public var hoursTotal: Double
    public var workUnits: Int
    public var datasetsHelped: Int
}

/// Per-host totals.
public struct HostTotals: Codable, Sendable, Equatable {
    public var hostId: String
    public var accountId: String
    public var name: String
    public var cores: Int
    public var hoursTotal: Double
    public var workUnits: Int
    public var lastSeen: Double
}

/// One validated unit of a host: when the coordinator sent it and received the result (its own
/// clock), and what the unit costs in reference-core seconds.
public struct HeldWork: Codable, Sendable, Equatable {
    public var sentAt: Double
    public var reportedAt: Double
    public var estimatedCost: Double

    public init(sentAt: Double, reportedAt: Double, estimatedCost: Double) {
        self.sentAt = sentAt
        self.reportedAt = reportedAt
        self.estimatedCost = estimatedCost
    }
}

extension SQLTransaction {
    /// A host's `limit` most recently reported valid replicas, for its demonstrated speed.
    public func recentValidWork(host: String, limit: Int) async throws -> [HeldWork] {
        try await records(HeldWork.self, """
            SELECT r.sent_at, r.reported_at, u.estimated_cost FROM replicas r JOIN work_units u ON u.id = r.work_unit_id
            WHERE r.host_id = \(bind: host) AND r.state = 'valid' AND r.sent_at IS NOT NULL AND r.reported_at IS NOT NULL
            ORDER BY r.reported_at DESC LIMIT \(literal: limit)
            """)
    }

    /// Hours already credited to a host on a UTC day.
    public func creditedHours(host: String, day: String) async throws -> Double {
        let row = try await first("SELECT COALESCE(SUM(hours), 0) AS h FROM hours_ledger WHERE host_id = \(bind: host) AND day = \(bind: day)")
        return try row?.decode(column: "h", as: Double.self) ?? 0
    }

    public func nextVolunteerSeq(account: String) async throws -> Int {
        let row = try await first("SELECT COALESCE(MAX(volunteer_seq), 0) AS s FROM hours_ledger WHERE account_id = \(bind: account)")
        return (try row?.decode(column: "s", as: Int.self) ?? 0) + 1
    }

    public func ledgerEntry(replica: String) async throws -> LedgerEntryRecord? {
        try await record(LedgerEntryRecord.self, "SELECT * FROM hours_ledger WHERE replica_id = \(bind: replica)")
    }

    public func ledgerEntry(id: String) async throws -> LedgerEntryRecord? {
        try await record(LedgerEntryRecord.self, "SELECT * FROM hours_ledger WHERE id = \(bind: id)")
    }

    /// The reversal entry of entry `id`, if it has been reversed.
    public func reversal(of id: String) async throws -> LedgerEntryRecord? {
        try await record(LedgerEntryRecord.self, "SELECT * FROM hours_ledger WHERE reverses = \(bind: id)")
    }

    /// A host's credit entries that no reversal has cancelled yet, oldest first.
    public func unreversedCredits(host: String) async throws -> [LedgerEntryRecord] {
        try await records(LedgerEntryRecord.self, """
            SELECT * FROM hours_ledger c
            WHERE c.host_id = \(bind: host) AND c.kind = 'credit'
              AND NOT EXISTS (SELECT 1 FROM hours_ledger r WHERE r.reverses = c.id)
            ORDER BY c.created_at, c.id
            """)
    }

    /// Appends an entry. Never updates or deletes (the table refuses both).
    public func appendLedgerEntry(_ e: LedgerEntryRecord) async throws {
        try await run("""
            INSERT INTO hours_ledger (id, account_id, volunteer_seq, host_id, replica_id, work_unit_id, dataset_id, kind, reverses,
                                      hours, estimated_hours, reported_cpu_seconds, day, created_at)
            VALUES (\(bind: e.id), \(bind: e.accountId), \(bind: e.volunteerSeq), \(bind: e.hostId), \(bind: e.replicaId),
                    \(bind: e.workUnitId), \(bind: e.datasetId), \(bind: e.kind.rawValue), \(bind: e.reverses), \(bind: e.hours),
                    \(bind: e.estimatedHours), \(bind: e.reportedCpuSeconds), \(bind: e.day), \(bind: e.createdAt))
            """)
    }

    /// A volunteer's entries after `seq`, in order.
    public func ledger(account: String, after seq: Int = 0, limit: Int = 1000) async throws -> [LedgerEntryRecord] {
        try await records(LedgerEntryRecord.self, """
            SELECT * FROM hours_ledger WHERE account_id = \(bind: account) AND volunteer_seq > \(bind: seq)
            ORDER BY volunteer_seq LIMIT \(literal: limit)
            """)
    }

    public func volunteerTotals(account: String) async throws -> VolunteerTotals? {
        try await volunteerTotals(where: "a.id = \(bind: account)", limit: 1).first
    }

    /// Volunteers by hours, most first.
    public func leaderboard(limit: Int) async throws -> [VolunteerTotals] {
        try await volunteerTotals(where: "a.role = \(bind: Role.volunteer.rawValue)", limit: limit)
    }

    private func volunteerTotals(where condition: SQLQueryString, limit: Int) async throws -> [VolunteerTotals] {
        try await records(VolunteerTotals.self, """
            SELECT a.id AS account_id, a.name AS name,
                   COALESCE(SUM(l.hours), 0) AS hours_total,
                   COUNT(l.replica_id) AS work_units,
                   COUNT(DISTINCT l.dataset_id) AS datasets_helped
            FROM accounts a LEFT JOIN hours_ledger l ON l.account_id = a.id
            WHERE \(condition)
            GROUP BY a.id, a.name
            ORDER BY hours_total DESC, a.name
            LIMIT \(literal: limit)
            """)
    }

    /// Hours per year (YYYY) of a volunteer.
    public func hoursByYear(account: String) async throws -> [String: Double] {
        var result: [String: Double] = [:]
        for row in try await all("""
            SELECT SUBSTR(day, 1, 4) AS y, SUM(hours) AS h FROM hours_ledger WHERE account_id = \(bind: account)
            GROUP BY SUBSTR(day, 1, 4)
            """) {
            result[try row.decode(column: "y", as: String.self)] = try row.decode(column: "h", as: Double.self)
        }
        return result
    }

    /// Hours and units per month (1-12) of one year.
    public func monthlyStatement(account: String, year: Int) async throws -> [Int: (hours: Double, units: Int)] {
        var result: [Int: (Double, Int)] = [:]
        let prefix = String(format: "%04d-", year)
        for row in try await all("""
            SELECT SUBSTR(day, 6, 2) AS m, SUM(hours) AS h, COUNT(replica_id) AS n FROM hours_ledger
            WHERE account_id = \(bind: account) AND SUBSTR(day, 1, 5) = \(bind: prefix)
            GROUP BY SUBSTR(day, 6, 2)
            """) {
            let month = Int(try row.decode(column: "m", as: String.self)) ?? 0
            result[month] = (try row.decode(column: "h", as: Double.self), try row.decode(column: "n", as: Int.self))
        }
        return result
    }

    public func hostTotals(account: String?) async throws -> [HostTotals] {
        let filter: SQLQueryString = account.map { "WHERE h.account_id = \(bind: $0)" } ?? ""
        return try await records(HostTotals.self, """
            SELECT h.id AS host_id, h.account_id AS account_id, h.name AS name, h.cores AS cores, h.last_seen AS last_seen,
                   COALESCE(SUM(l.hours), 0) AS hours_total, COUNT(l.replica_id) AS work_units
            FROM hosts h LEFT JOIN hours_ledger l ON l.host_id = h.id
            \(filter)
            GROUP BY h.id, h.account_id, h.name, h.cores, h.last_seen
            ORDER BY hours_total DESC
            """)
    }

    /// Candidates whose best detection lay in a unit this volunteer's hosts validated.
    public func candidatesTakenPartIn(account: String) async throws -> Int {
        try await count("""
            SELECT COUNT(*) AS n FROM candidates c
            WHERE EXISTS (
                SELECT 1 FROM hours_ledger l JOIN work_units u ON u.id = l.work_unit_id
                WHERE l.account_id = \(bind: account) AND l.kind = \(bind: LedgerEntryKind.credit.rawValue) AND u.dataset_id = c.dataset_id
                  AND c.dm_index >= u.dm_first AND c.dm_index < u.dm_first + u.dm_count)
            """)
    }

    // MARK: Sync state

    public func volunteerSync(account: String) async throws -> VolunteerSyncRecord? {
        try await record(VolunteerSyncRecord.self, "SELECT * FROM volunteer_sync WHERE account_id = \(bind: account)")
    }

    /// Links a volunteer's profile on the external platform (sync starts from their first entry).
    /// Records the use of a link code's nonce; false when it was used before.
    public func useLinkCode(nonce: String, account: String, profileID: String, at time: Double) async throws -> Bool {
        let rows = try await all("""
            INSERT INTO platform_link_codes (nonce, account_id, profile_id, used_at)
            VALUES (\(bind: nonce), \(bind: account), \(bind: profileID), \(bind: time))
            ON CONFLICT (nonce) DO NOTHING RETURNING nonce
            """)
        return !rows.isEmpty
    }

    /// The volunteer a platform profile is linked to, if any.
    public func accountLinked(toProfile profileID: String) async throws -> String? {
        let row = try await first("SELECT account_id FROM volunteer_sync WHERE platform_profile_id = \(bind: profileID)")
        return try row?.decode(column: "account_id", as: String.self)
    }

    public func linkPlatformProfile(account: String, profileID: String) async throws {
        try await run("""
            INSERT INTO volunteer_sync (account_id, platform_profile_id, synced_seq, failures, next_attempt)
            VALUES (\(bind: account), \(bind: profileID), 0, 0, 0)
            ON CONFLICT (account_id) DO UPDATE SET platform_profile_id = \(bind: profileID), failures = 0, next_attempt = 0
            """)
    }

    /// Linked volunteers with entries not yet placed in a stream or not yet acknowledged, whose
    /// next attempt is due.
    public func volunteersToSync(now: Double, limit: Int) async throws -> [VolunteerSyncRecord] {
        try await records(VolunteerSyncRecord.self, """
            SELECT s.* FROM volunteer_sync s
            WHERE s.platform_profile_id IS NOT NULL AND s.next_attempt <= \(bind: now)
              AND (EXISTS (SELECT 1 FROM hours_ledger l WHERE l.account_id = s.account_id AND l.volunteer_seq > s.synced_seq)
                   OR EXISTS (SELECT 1 FROM profile_stream p WHERE p.account_id = s.account_id AND p.acknowledged = 0))
            ORDER BY s.next_attempt LIMIT \(literal: limit)
            """)
    }

    public func recordSyncSuccess(account: String, at time: Double) async throws {
        try await run("""
            UPDATE volunteer_sync SET failures = 0, next_attempt = 0, last_error = NULL, last_success = \(bind: time)
            WHERE account_id = \(bind: account)
            """)
    }

    public func recordSyncFailure(account: String, error: String, nextAttempt: Double) async throws {
        try await run("""
            UPDATE volunteer_sync SET failures = failures + 1, next_attempt = \(bind: nextAttempt), last_error = \(bind: error)
            WHERE account_id = \(bind: account)
            """)
    }


    /// Ledger entries not yet acknowledged by the platform, all volunteers (for metrics)
    /// (``pendingEntryCount(account:)``).
    public func unsyncedEntryCount() async throws -> Int { try await pendingEntryCount(account: nil) }
}

/// Project-wide figures for the home page.
public struct ProjectStats: Sendable, Equatable {
    public var volunteers: Int
    public var hosts: Int
    public var activeHosts: Int
    public var hoursTotal: Double
    public var datasets: Int
    public var unitsValidated: Int
    public var unitsValidatedLastDay: Int
    public var candidates: Int
}

extension SQLTransaction {
    public func projectStats(now: Double) async throws -> ProjectStats {
        let dayAgo = now - 86_400
        let hours = try await first("SELECT COALESCE(SUM(hours), 0) AS h FROM hours_ledger").map { try $0.decode(column: "h", as: Double.self) } ?? 0
        return ProjectStats(
            volunteers: try await count("SELECT COUNT(*) AS n FROM accounts WHERE role = \(bind: Role.volunteer.rawValue)"),
            hosts: try await count("SELECT COUNT(*) AS n FROM hosts"),
            activeHosts: try await count("SELECT COUNT(*) AS n FROM hosts WHERE last_seen > \(bind: dayAgo)"),
            hoursTotal: hours,
            datasets: try await count("SELECT COUNT(*) AS n FROM datasets"),
            unitsValidated: try await count("SELECT COUNT(*) AS n FROM work_units WHERE state = \(bind: WorkUnitState.validated.rawValue)"),
            unitsValidatedLastDay: try await count(
                "SELECT COUNT(*) AS n FROM work_units WHERE state = \(bind: WorkUnitState.validated.rawValue) AND validated_at > \(bind: dayAgo)"),
            candidates: try await count("SELECT COUNT(*) AS n FROM candidates"))
    }

    /// One candidate's JSON body.
    public func candidateBody(dataset: String, rank: Int) async throws -> String? {
        try await first("SELECT body FROM candidates WHERE dataset_id = \(bind: dataset) AND rank = \(bind: rank)")
            .map { try $0.decode(column: "body", as: String.self) }
    }
}
