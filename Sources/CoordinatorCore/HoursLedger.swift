import CoordinatorStore
import Foundation
import WorkUnits

/// The hours ledger: credits for validated results, capped per host and day, and reversals.
/// Append-only: a credit is never changed, only reversed by another entry.
public struct HoursLedger: DomainService {
    let environment: CoordinatorEnvironment

    /// Credits the volunteer behind a replica that has just been judged valid.
    ///
    /// The hours are the coordinator's own estimate of the unit's cost in reference-core hours,
    /// never what the host reports (its CPU time is kept beside the entry, for display). A host's
    /// credited hours per UTC day are capped by ``HostDailyCap``, from the speed it has
    /// shown, not the cores it claims. One entry per result: crediting the same replica again
    /// does nothing.
    package func credit(replica id: String, unit: WorkUnitRecord, tx: SQLTransaction) async throws {
        guard let replica = try await tx.replica(id: id), let account = replica.accountId, let hostID = replica.hostId else { return }
        if try await tx.ledgerEntry(replica: id) != nil { return }
        // One volunteer's entries are numbered one at a time, and one host's daily cap likewise.
        try await tx.lockRow(table: .accounts, id: account)
        let now = clock.now()
        let day = UTCDay.of(now)
        let valid = try await tx.replicas(workUnit: unit.id).filter { $0.id == id || $0.state == ReplicaState.valid }
        let estimated = Self.creditedHours(unit: unit, valid: valid)
        guard let host = try await tx.host(id: hostID) else { return }
        let cap = HostDailyCap.hours(host: host, work: try await tx.recentValidWork(host: hostID, limit: HostDailyCap.window))
        let already = try await tx.creditedHours(host: hostID, day: day)
        let hours = LedgerEntryRecord.quantized(max(0, min(estimated, cap - already)))
        let unitRecord = unit
        try await tx.appendLedgerEntry(LedgerEntryRecord(
            id: Secrets.identifier(), accountId: account, volunteerSeq: try await tx.nextVolunteerSeq(account: account),
            hostId: hostID, replicaId: id, workUnitId: unitRecord.id, datasetId: unitRecord.datasetId, kind: .credit,
            reverses: nil, hours: hours, estimatedHours: estimated, reportedCpuSeconds: replica.cpuSeconds ?? 0, day: day,
            createdAt: now))
        tx.afterCommit { [metrics] in metrics.hoursCredited.increment(by: hours) }
    }

    /// Reference-core hours a valid result of `unit` earns before the daily cap: the unit's planned
    /// cost and the measuring of its peaks, counted as the fewest any of its `valid` results
    /// reports (the audit bounds each by the preset's limit per trial), so that a host cannot raise
    /// its credit by claiming more peaks than its independent partner measured.
    public static func creditedHours(unit: WorkUnitRecord, valid: [ReplicaRecord]) -> Double {
        let peaks = valid.compactMap(\.peaksMeasured).min() ?? 0
        return LedgerEntryRecord.quantized((unit.estimatedCost + CostModel.reference.peakCost(peaks)) / 3600)
    }

    /// Corrects a credit by appending a reversal entry (the ledger is never edited).
    public func reverseCredit(entry id: String) async throws {
        try await store.transaction { tx in
            guard let entry = try await tx.ledgerEntry(id: id) else { throw DomainError.notFound("ledger entry \(id)") }
            guard entry.kind == .credit else { throw DomainError.invalid("entry \(id) is a \(entry.kind.rawValue), not a credit") }
            if let earlier = try await tx.reversal(of: id) {
                throw DomainError.conflict("entry \(id) was already reversed by entry \(earlier.id)")
            }
            try await tx.lockRow(table: .accounts, id: entry.accountId)
            try await appendReversal(of: entry, tx: tx)
        }
    }

    /// Appends the reversal of credit `entry`; the caller holds the account's row lock and has
    /// checked that the entry is a credit not yet reversed.
    func appendReversal(of entry: LedgerEntryRecord, tx: SQLTransaction) async throws {
        let now = clock.now()
        try await tx.appendLedgerEntry(LedgerEntryRecord(
            id: Secrets.identifier(), accountId: entry.accountId,
            volunteerSeq: try await tx.nextVolunteerSeq(account: entry.accountId), hostId: entry.hostId, replicaId: nil,
            workUnitId: entry.workUnitId, datasetId: entry.datasetId, kind: .reversal, reverses: entry.id,
            hours: -entry.hours, estimatedHours: -entry.estimatedHours, reportedCpuSeconds: 0, day: UTCDay.of(now),
            createdAt: now))
    }

}
