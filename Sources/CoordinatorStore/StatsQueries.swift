import Foundation
import SQLKit

/// A volunteer as the stats export reads it. The email is read only to derive the cross-project
/// id and is never written out.
public struct ExportVolunteer: Codable, Sendable, Equatable {
    public var accountId: String
    public var name: String
    public var email: String?
    public var createdAt: Double
    public var hoursTotal: Double
    public var workUnits: Int
    public var datasetsHelped: Int
}

/// A host as the stats export reads it: no name, no account.
public struct ExportHost: Codable, Sendable, Equatable {
    public var hostId: String
    public var cores: Int
    public var createdAt: Double
    public var lastSeen: Double
    public var hoursTotal: Double
    public var workUnits: Int
}

/// Hours credited (net of reversals) to one volunteer's host on one UTC day.
public struct DailyHours: Codable, Sendable, Equatable {
    public var accountId: String
    public var hostId: String?
    public var day: String
    public var hours: Double
}

extension SQLTransaction {
    /// Every volunteer with their totals, most hours first.
    public func exportVolunteers() async throws -> [ExportVolunteer] {
        try await records(ExportVolunteer.self, """
            SELECT a.id AS account_id, a.name AS name, a.email AS email, a.created_at AS created_at,
                   COALESCE(SUM(l.hours), 0) AS hours_total, COUNT(l.replica_id) AS work_units,
                   COUNT(DISTINCT l.dataset_id) AS datasets_helped
            FROM accounts a LEFT JOIN hours_ledger l ON l.account_id = a.id
            WHERE a.role = \(bind: Role.volunteer.rawValue)
            GROUP BY a.id, a.name, a.email, a.created_at
            ORDER BY hours_total DESC, a.name
            """)
    }

    /// Every host with its totals, most hours first.
    public func exportHosts() async throws -> [ExportHost] {
        try await records(ExportHost.self, """
            SELECT h.id AS host_id, h.cores AS cores, h.created_at AS created_at, h.last_seen AS last_seen,
                   COALESCE(SUM(l.hours), 0) AS hours_total, COUNT(l.replica_id) AS work_units
            FROM hosts h LEFT JOIN hours_ledger l ON l.host_id = h.id
            GROUP BY h.id, h.cores, h.created_at, h.last_seen
            ORDER BY hours_total DESC, h.id
            """)
    }

    /// Hours per volunteer, host and UTC day from `firstDay` (YYYY-MM-DD) on.
    public func dailyHours(from firstDay: String) async throws -> [DailyHours] {
        try await records(DailyHours.self, """
            SELECT account_id, host_id, day, SUM(hours) AS hours FROM hours_ledger WHERE day >= \(bind: firstDay)
            GROUP BY account_id, host_id, day
            """)
    }
}
