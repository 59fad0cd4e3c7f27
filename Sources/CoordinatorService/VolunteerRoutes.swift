import CoordinatorCore
import CoordinatorStore
import Foundation
import Hummingbird
import XunxingProtocol

extension Coordinator {
    func addVolunteerRoutes(to api: RouterGroup<CoordinatorRequestContext>) {
        api.get("volunteers/me") { request, _ -> Response in
            let principal = try await self.authenticate(request, [.volunteer])
            return try JSONBody.response(try await self.profile(of: principal.accountID, full: true))
        }

        api.put("volunteers/me/platform") { request, _ -> Response in
            let principal = try await self.authenticate(request, [.volunteer])
            let link = try await JSONBody.decode(PlatformLink.self, from: request, limit: 16 << 10)
            let code = try APIError.refusing { () throws(RequestBodyError) in try link.validated() }
            try await self.core.accounts.linkPlatform(account: principal.accountID, code: code)
            return try JSONBody.response(try await self.profile(of: principal.accountID, full: true))
        }

        // Profiles are public (no email, no keys, no host names, nothing of the platform link):
        // volunteers show them off. The volunteer's own key (or an administrator's) sees it all.
        api.get("volunteers/:id") { request, context -> Response in
            let id = try context.parameters.require("id")
            var full = false
            if request.headers[.authorization] != nil, let principal = try? await self.authenticate(request, [.volunteer, .admin]) {
                full = principal.role == .admin || principal.accountID == id
            }
            return try JSONBody.response(try await self.profile(of: id, full: full))
        }

        // A statement is the volunteer's own (or an administrator's) to read.
        api.get("volunteers/:id/statement") { request, context -> Response in
            let principal = try await self.authenticate(request, [.volunteer, .admin])
            let id = try context.parameters.require("id")
            guard principal.role == .admin || principal.accountID == id else {
                throw APIError.forbidden("a statement can only be read by its volunteer")
            }
            let current = Calendar(identifier: .gregorian).component(.year, from: Date())
            let yearText = request.uri.queryParameters["year"].map(String.init)
            guard let year = yearText.map({ Int($0) }) ?? current, (1970...9999).contains(year) else {
                throw APIError.badRequest("year '\(yearText ?? "")' is not a year")
            }
            return try JSONBody.response(try await self.statement(of: id, year: year))
        }

        // A host sees its own and its volunteer's hours (the worker's `status` shows them).
        api.get("hosts/me") { request, _ -> Response in
            let principal = try await self.authenticate(request, [.host])
            let profile = try await self.profile(of: principal.accountID, full: true)
            let host = profile.hosts.first { $0.id == principal.hostID }
            return try JSONBody.response(HostHours(
                hostID: principal.hostID ?? "", volunteerID: profile.id, volunteerName: profile.name,
                volunteerHoursTotal: profile.hoursTotal, hostHoursTotal: host?.hoursTotal ?? 0))
        }

        api.get("leaderboard") { _, _ -> Response in
            let rows = try await self.store.read { try await $0.leaderboard(limit: 100) }
            return try JSONBody.response(rows.map { LeaderboardRow(id: $0.accountId, name: $0.name, hoursTotal: $0.hoursTotal, workUnits: $0.workUnits) })
        }

        // An administrator's view of one volunteer's ledger, in order, a page at a time.
        api.get("admin/ledger") { request, _ -> Response in
            _ = try await self.authenticate(request, [.admin])
            let query = request.uri.queryParameters
            guard let account = query["account"].map(String.init), !account.isEmpty else {
                throw APIError.badRequest("query parameter account (a volunteer's account id) is required")
            }
            let after = try query["after"].map { value -> Int in
                guard let n = Int(String(value)), n >= 0 else { throw APIError.badRequest("after must be a sequence number >= 0, not '\(value)'") }
                return n
            } ?? 0
            let limit = try query["limit"].map { value -> Int in
                guard let n = Int(String(value)), (1...1000).contains(n) else { throw APIError.badRequest("limit must be 1 to 1000, not '\(value)'") }
                return n
            } ?? 1000
            let entries = try await self.store.read { tx -> [LedgerEntryRecord] in
                guard try await tx.account(id: account) != nil else { throw APIError.notFound("account \(account)") }
                return try await tx.ledger(account: account, after: after, limit: limit)
            }
            return try JSONBody.response(entries.map {
                LedgerEntryView(
                    id: $0.id, accountID: $0.accountId, sequence: $0.volunteerSeq, kind: $0.kind.rawValue, hours: $0.hours,
                    estimatedHours: $0.estimatedHours, hostID: $0.hostId, workUnitID: $0.workUnitId, datasetID: $0.datasetId,
                    reverses: $0.reverses, day: $0.day, createdAt: $0.createdAt)
            })
        }

        api.post("admin/ledger/:id/reverse") { request, context -> Response in
            _ = try await self.authenticate(request, [.admin])
            try await self.core.ledger.reverseCredit(entry: try context.parameters.require("id"))
            return Response(status: .noContent)
        }
    }
    /// A volunteer's profile. The public one (`full` false) names hosts "host 1", "host 2"... with
    /// no ids and leaves out the platform link (its profile id, failures and last error); the
    /// volunteer's own has everything.
    func profile(of id: String, full: Bool) async throws -> VolunteerProfile {
        try await store.read { tx in
            guard let account = try await tx.account(id: id), account.role == .volunteer,
                let totals = try await tx.volunteerTotals(account: id)
            else { throw APIError.notFound("volunteer \(id)") }
            let hosts = try await tx.hostTotals(account: id).enumerated().map { i, h in
                VolunteerProfile.HostSummary(
                    id: full ? h.hostId : "", name: full ? h.name : "host \(i + 1)", cores: h.cores, hoursTotal: h.hoursTotal,
                    workUnits: h.workUnits, lastSeen: Date(timeIntervalSince1970: h.lastSeen))
            }
            var sync: VolunteerProfile.SyncState?
            if full, let s = try await tx.volunteerSync(account: id) {
                let last = try await tx.pendingEntryCount(account: id)
                sync = .init(
                    platformProfileID: s.platformProfileId,
                    state: s.failures > 0 ? "failing" : (last > 0 ? "pending" : "synced"), pendingEntries: last,
                    failures: s.failures, lastError: s.lastError, lastSuccess: s.lastSuccess.map { Date(timeIntervalSince1970: $0) })
            }
            return VolunteerProfile(
                id: id, name: account.name, hoursTotal: totals.hoursTotal, hoursByYear: try await tx.hoursByYear(account: id),
                workUnits: totals.workUnits, datasetsHelped: totals.datasetsHelped,
                candidates: try await tx.candidatesTakenPartIn(account: id), hosts: hosts, sync: sync)
        }
    }

    func statement(of id: String, year: Int) async throws -> YearlyStatement {
        try await store.read { tx in
            guard let account = try await tx.account(id: id) else { throw APIError.notFound("volunteer \(id)") }
            let months = try await tx.monthlyStatement(account: id, year: year)
            let rows = (1...12).map { m in
                YearlyStatement.Month(month: m, hours: months[m]?.hours ?? 0, workUnits: months[m]?.units ?? 0)
            }
            return YearlyStatement(volunteerID: id, name: account.name, year: year, months: rows, hoursTotal: rows.reduce(0) { $0 + $1.hours })
        }
    }
}

/// A row of the public leaderboard.
struct LeaderboardRow: Codable {
    var id: String
    var name: String
    var hoursTotal: Double
    var workUnits: Int
    enum CodingKeys: String, CodingKey { case id, name, hoursTotal = "hours_total", workUnits = "work_units" }
}
