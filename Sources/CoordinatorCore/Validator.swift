import CoordinatorStore
import Foundation
import WorkUnits
import XunxingProtocol
import XunxingSupport

/// Judging reported results: storing each, comparing replicas, choosing the canonical result,
/// adaptive replication for trusted hosts, and crediting the valid ones.
public struct Validator: DomainService {
    let environment: CoordinatorEnvironment
    let ledger: HoursLedger
    let replication: Replication

    /// Stores a host's result and validates its unit in the same transaction: an accepted upload
    /// is never lost and never counted twice.
    public func report(replica id: String, host: String, result: WorkUnitResult) async throws -> String {
        let json = String(decoding: try WireCoding.encoder().encode(result), as: UTF8.self)
        let verdict = try await audit(result, replica: id, host: host)
        // The other results of the unit, decoded before the writer's transaction (decoding is the
        // costly part of judging, and the writer is the coordinator's bottleneck); one reported
        // in between is decoded inside it.
        // The spot-check draw happens once per report, not once per attempt of a retried transaction.
        let spotCheckDraw = Double.random(in: 0..<1)
        var decoded = try await reportedResults(sharingUnitWith: id)
        decoded[id] = result
        let known = decoded
        let outcome = try await store.transaction { tx -> String in
            guard let located = try await tx.replica(id: id) else { throw DomainError.notFound("replica \(id)") }
            // Results of one unit reported to different coordinators are judged one after the other.
            try await tx.lockRow(table: .workUnits, id: located.workUnitId)
            guard let replica = try await tx.replica(id: id) else { throw DomainError.notFound("replica \(id)") }
            guard replica.hostId == host else { throw DomainError.forbidden("replica \(id) is assigned to another host") }
            switch replica.state {
            case ReplicaState.reported, ReplicaState.valid, ReplicaState.invalid:
                return "duplicate"
            case ReplicaState.lost:
                throw DomainError.conflict("replica \(id) passed its deadline and was reissued; its result is no longer needed")
            case ReplicaState.assigned, ReplicaState.acknowledged:
                break
            default:
                throw DomainError.forbidden("replica \(id) was never sent to this host")
            }
            guard result.workUnitID == replica.workUnitId else {
                throw DomainError.invalid("result names work unit \(result.workUnitID) but replica \(id) belongs to \(replica.workUnitId)")
            }
            guard let unit = try await tx.workUnit(id: replica.workUnitId) else { throw DomainError.notFound("work unit") }
            try DomainError.refusing { () throws(RequestBodyError) in try result.validate(dmTrials: unit.dmFirst..<(unit.dmFirst + unit.dmCount)) }
            let now = clock.now()
            try await tx.storeResult(
                replica: id, json: json, cpuSeconds: max(0, result.cpuSeconds), peaks: result.peaksMeasured, at: now)
            if let rejection = verdict?.rejection {
                return try await self.reject(unit, replica: id, host: host, rejection: rejection, tx: tx)
            }
            return try await self.validate(unit, reported: id, host: host, known: known, spotCheckDraw: spotCheckDraw, tx: tx)
        }
        // A duplicate was not stored (the replica's first result stands): nothing to keep.
        if outcome != "duplicate" { decodedResults.keep(result, replica: id, json: json) }
        metrics.resultsReported.increment()
        return outcome
    }

    /// The results already reported for the unit of replica `id`, decoded off the writer.
    private func reportedResults(sharingUnitWith id: String) async throws -> [String: WorkUnitResult] {
        let stored = try await store.read { tx -> [(String, String)] in
            guard let replica = try await tx.replica(id: id) else { return [] }
            return try await tx.replicas(workUnit: replica.workUnitId).compactMap { r in r.result.map { (r.id, $0) } }
        }
        guard !stored.isEmpty else { return [:] }
        let cache = decodedResults
        return await onThread {
            var decoded: [String: WorkUnitResult] = [:]
            for (replica, json) in stored { decoded[replica] = try? cache.result(replica: replica, json: json) }
            return decoded
        }
    }

    /// The validator's rule for one unit after a result arrived; returns the reported replica's
    /// outcome. `known` holds results already decoded (by replica id).
    private func validate(
        _ unit: WorkUnitRecord, reported: String, host: String, known: [String: WorkUnitResult] = [:],
        spotCheckDraw: Double, tx: SQLTransaction
    ) async throws -> String {
        var unit = unit
        let replicas = try await tx.replicas(workUnit: unit.id)
        let metrics = self.metrics, cache = decodedResults
        func decode(_ r: ReplicaRecord) throws -> WorkUnitResult {
            if let result = known[r.id] { return result }
            tx.afterCommit { metrics.resultsDecodedInWriter.increment() }
            return try cache.result(replica: r.id, json: r.result ?? "")
        }
        let now = clock.now()

        // A unit already decided: judge the late result against the canonical one.
        if unit.state != WorkUnitState.active {
            guard let canonicalID = unit.canonicalReplica, let canonical = replicas.first(where: { $0.id == canonicalID }),
                let mine = replicas.first(where: { $0.id == reported })
            else {
                try await tx.setReplicaState(id: reported, state: ReplicaState.invalid)
                return ReplicaState.invalid.rawValue
            }
            let agrees = ResultComparison.agree(
                try decode(canonical), try decode(mine), duration: unit.duration, reportingThreshold: unit.reportingThreshold)
            let state = agrees ? ReplicaState.valid : ReplicaState.invalid
            try await tx.setReplicaState(id: reported, state: state)
            try await tx.recordValidation(hostID: host, valid: agrees)
            if agrees { try await ledger.credit(replica: reported, unit: unit, tx: tx) }
            return state.rawValue
        }

        // Adaptive replication: a host with a long run of valid results needs no twin, except
        // for every Nth result and random spot checks, as long as the twin has not been sent yet.
        if unit.targetResults > 1, let reporter = try await tx.host(id: host), reporter.validStreak >= configuration.trustThreshold,
            (reporter.validStreak + 1) % max(1, configuration.spotCheckEvery) != 0,
            replicas.allSatisfy({ $0.id == reported || $0.state == ReplicaState.unsent }),
            spotCheckDraw >= configuration.spotCheckRate
        {
            try await tx.deleteUnsentReplicas(workUnit: unit.id)
            try await tx.setWorkUnitTarget(id: unit.id, targetResults: 1)
            unit.targetResults = 1
        }

        let pending = replicas.filter { $0.state == ReplicaState.reported || $0.id == reported }
        if unit.targetResults == 1, let only = pending.first, pending.count == 1 {
            let result = try decode(only)
            let problem = ResultComparison.implausibility(
                result, seriesCount: unit.seriesCount, reportingThreshold: unit.reportingThreshold)
            let sane = problem == nil
            if let problem {
                let (logger, unitID) = (self.logger, unit.id)
                tx.afterCommit { logger.warning("result \(only.id) of unit \(unitID) from a trusted host is implausible: \(problem)") }
            }
            try await tx.setReplicaState(id: only.id, state: sane ? ReplicaState.valid : ReplicaState.invalid)
            try await tx.recordValidation(hostID: host, valid: sane)
            if sane {
                try await tx.finishWorkUnit(id: unit.id, state: WorkUnitState.validated, canonical: only.id, at: now)
                try await ledger.credit(replica: only.id, unit: unit, tx: tx)
                tx.afterCommit { metrics.unitsValidated.increment() }
                return ReplicaState.valid.rawValue
            }
            try await tx.setWorkUnitTarget(id: unit.id, targetResults: 2)
            try await replication.reissue(unit, replicas: replicas, tx: tx)
            tx.afterCommit { metrics.resultsInvalid.increment() }
            return ReplicaState.invalid.rawValue
        }
        guard pending.count >= max(2, unit.targetResults) else { return ReplicaState.reported.rawValue }

        let results = try pending.map(decode)
        if let group = ResultComparison.canonical(results, duration: unit.duration, reportingThreshold: unit.reportingThreshold) {
            let members = Set(group)
            var outcome = ReplicaState.reported
            for (i, replica) in pending.enumerated() {
                let valid = members.contains(i)
                let state = valid ? ReplicaState.valid : ReplicaState.invalid
                try await tx.setReplicaState(id: replica.id, state: state)
                if let h = replica.hostId { try await tx.recordValidation(hostID: h, valid: valid) }
                if !valid { tx.afterCommit { metrics.resultsInvalid.increment() } }
                if replica.id == reported { outcome = state }
            }
            // Credited once every member is valid: each credit counts the peaks of all of them.
            for i in group { try await ledger.credit(replica: pending[i].id, unit: unit, tx: tx) }
            try await tx.finishWorkUnit(id: unit.id, state: WorkUnitState.validated, canonical: pending[group[0]].id, at: now)
            tx.afterCommit { metrics.unitsValidated.increment() }
            return outcome.rawValue
        }
        // No two results agree: ask another host, up to the unit's limit.
        try await replication.reissue(unit, replicas: replicas, tx: tx)
        return ReplicaState.reported.rawValue
    }
}
