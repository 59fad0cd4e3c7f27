import CoordinatorStore
import Foundation
import PulsarSearch
import WorkUnits
import XunxingProtocol
import XunxingSupport

extension Validator {
    /// The audit every result goes through, as configured.
    var resultAudit: ResultAudit {
        ResultAudit(spotChecks: configuration.auditSpotChecks, researchRate: configuration.auditResearchRate)
    }

    /// Audits a reported result against its unit's payload (``ResultAudit``), on a thread of its
    /// own and before the writer's transaction: single-bin DFTs and an occasional re-search must
    /// not hold the writer. Nil when the replica is not `host`'s to report (no work is done for a
    /// report that will be refused) or its payload is gone: the transaction then answers as it
    /// would without an audit.
    func audit(_ result: WorkUnitResult, replica id: String, host: String) async throws -> ResultAudit.Verdict? {
        let path = try await store.read { tx -> String? in
            guard let replica = try await tx.replica(id: id), replica.hostId == host,
                replica.state == ReplicaState.assigned || replica.state == ReplicaState.acknowledged,
                let unit = try await tx.workUnit(id: replica.workUnitId)
            else { return nil }
            return unit.payloadPath
        }
        guard let path else { return nil }
        let audit = resultAudit, planner = environment.planner
        do {
            return try await onThread {
                let (header, samples) = try WorkUnitPayload.read(path: path)
                var random = SystemRandomNumberGenerator()
                return audit.audit(result, header: header, samples: samples, planner: planner, random: &random)
            }
        } catch {
            logger.error("result of replica \(id) could not be audited: \(error)")
            return nil
        }
    }

    /// Turns down a result that failed its audit: the replica is invalid and its unit goes out
    /// again. A forged result also costs its host its trust, every hour it was credited and the
    /// validation of every unit its results counted towards (``penalise(host:reason:tx:)``).
    func reject(
        _ unit: WorkUnitRecord, replica id: String, host: String, rejection: ResultAudit.Rejection, tx: SQLTransaction
    ) async throws -> String {
        try await tx.setReplicaState(id: id, state: ReplicaState.invalid)
        let (metrics, logger) = (self.metrics, self.logger)
        tx.afterCommit { metrics.resultsInvalid.increment() }
        switch rejection {
        case let .forged(reason):
            tx.afterCommit {
                logger.warning("result of replica \(id) (unit \(unit.id), host \(host)) is forged: \(reason)")
                metrics.resultsForged.increment()
            }
            try await penalise(host: host, reason: reason, tx: tx)
        case let .malformed(reason):
            tx.afterCommit { logger.warning("result of replica \(id) (unit \(unit.id), host \(host)) is malformed: \(reason)") }
            try await tx.recordValidation(hostID: host, valid: false)
        }
        if let current = try await tx.workUnit(id: unit.id), current.state == WorkUnitState.active {
            try await replication.reissue(current, replicas: try await tx.replicas(workUnit: unit.id), tx: tx)
        }
        return ReplicaState.invalid.rawValue
    }

    /// A host caught forging loses its trust (its run of valid results starts again, so every unit
    /// it gets is replicated), its hours (a reversal entry for each credit not yet reversed), and
    /// the results it had returned: valid ones stop counting and their units are validated again
    /// from the other replicas and new ones; ones still waiting for a twin are invalid.
    func penalise(host: String, reason: String, tx: SQLTransaction) async throws {
        try await tx.recordValidation(hostID: host, valid: false)
        for entry in try await tx.unreversedCredits(host: host) {
            try await tx.lockRow(table: .accounts, id: entry.accountId)
            try await ledger.appendReversal(of: entry, tx: tx)
            tx.afterCommit { [metrics] in metrics.hoursReversed.increment(by: entry.hours) }
        }
        for replica in try await tx.replicas(host: host, state: ReplicaState.valid) {
            try await tx.lockRow(table: .workUnits, id: replica.workUnitId)
            try await tx.setReplicaState(id: replica.id, state: ReplicaState.invalid)
            if let unit = try await tx.workUnit(id: replica.workUnitId) { try await revalidate(unit, losing: replica.id, tx: tx) }
        }
        for replica in try await tx.replicas(host: host, state: ReplicaState.reported) {
            try await tx.lockRow(table: .workUnits, id: replica.workUnitId)
            try await tx.setReplicaState(id: replica.id, state: ReplicaState.invalid)
            if let unit = try await tx.workUnit(id: replica.workUnitId), unit.state == WorkUnitState.active {
                try await replication.reissue(unit, replicas: try await tx.replicas(workUnit: unit.id), tx: tx)
            }
        }
        logger.warning("host \(host) caught forging (\(reason)): trust reset, credits reversed, its units validated again")
    }

    /// A unit one of whose valid results was forged. With two valid results left it stays
    /// validated (on one of them); otherwise it is active again, what is left counts as reported
    /// (compared with the next result, credited once: credits are per replica), replicas are added
    /// up to a quorum of two, and a complete dataset is merged again when its units are done.
    private func revalidate(_ unit: WorkUnitRecord, losing forged: String, tx: SQLTransaction) async throws {
        guard unit.state == WorkUnitState.validated else { return }
        let replicas = try await tx.replicas(workUnit: unit.id)
        let standing = replicas.filter { $0.state == ReplicaState.valid }
        if standing.count >= 2 {
            if unit.canonicalReplica == forged {
                try await tx.finishWorkUnit(id: unit.id, state: WorkUnitState.validated, canonical: standing[0].id, at: clock.now())
            }
            return
        }
        try await tx.reopenWorkUnit(id: unit.id, targetResults: max(2, unit.targetResults))
        for r in standing { try await tx.setReplicaState(id: r.id, state: ReplicaState.reported) }
        let live: Set<ReplicaState> = [ReplicaState.unsent, ReplicaState.assigned, ReplicaState.acknowledged]
        let outstanding = replicas.filter { live.contains($0.state) }.count
        for _ in 0..<max(0, 2 - standing.count - outstanding) {
            try await tx.insertReplica(id: Secrets.identifier(), workUnit: unit.id, at: unit.createdAt)
        }
        tx.afterCommit { [metrics] in metrics.unitsReopened.increment() }
        if let dataset = try await tx.dataset(id: unit.datasetId), dataset.state == DatasetState.complete {
            try await tx.setDatasetState(id: dataset.id, state: DatasetState.searching)
        }
    }
}
