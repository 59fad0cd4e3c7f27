import CoordinatorStore
import Foundation
import XunxingProtocol

/// Sending a unit out again: when a replica is lost (late, given up) or results disagree, and
/// failing the unit once it has used up its replicas.
public struct Replication: DomainService {
    let environment: CoordinatorEnvironment


    /// How many replicas a unit may have sent in all, as a multiple of its `maxReplicas`: replicas
    /// lost on the way (a cut connection, a host that vanished) are sent again, but a unit that is
    /// lost over and over is given up too.
    static let lostReplicaAllowance = 4

    /// Adds a replica to a unit, or gives the unit up: when `maxReplicas` results came back without
    /// agreeing, or when it has been sent `lostReplicaAllowance` times that many times. Lost
    /// replicas do not count as disagreement (as BOINC keeps its error and total limits apart).
    func reissue(_ unit: WorkUnitRecord, replicas: [ReplicaRecord], tx: SQLTransaction) async throws {
        let now = clock.now()
        let returned: Set<ReplicaState> = [ReplicaState.reported, ReplicaState.valid, ReplicaState.invalid]
        let results = replicas.filter { returned.contains($0.state) }.count
        if results < unit.maxReplicas && replicas.count < unit.maxReplicas * Self.lostReplicaAllowance {
            // Dated with its unit, so the scheduler (oldest first) sends it before newer units' replicas.
            try await tx.insertReplica(id: Secrets.identifier(), workUnit: unit.id, at: unit.createdAt)
            tx.afterCommit { [metrics] in metrics.replicasReissued.increment() }
        } else {
            let current = try await tx.replicas(workUnit: unit.id)
            for r in current where r.state == ReplicaState.reported { try await tx.setReplicaState(id: r.id, state: ReplicaState.invalid) }
            try await tx.deleteUnsentReplicas(workUnit: unit.id)
            try await tx.finishWorkUnit(id: unit.id, state: WorkUnitState.error, canonical: nil, at: now)
            logger.warning("work unit \(unit.id) failed: \(results) results without agreement, \(replicas.count) replicas sent")
        }
    }

    /// The transitioner: replicas past their deadline are lost and sent again.
    public func expireOverdueReplicas() async throws {
        let now = clock.now()
        try await store.transaction { tx in
            for replica in try await tx.overdueReplicas(now: now) {
                try await tx.lockRow(table: .workUnits, id: replica.workUnitId)
                guard try await tx.replica(id: replica.id)?.state == replica.state else { continue }
                try await tx.setReplicaState(id: replica.id, state: ReplicaState.lost)
                guard let unit = try await tx.workUnit(id: replica.workUnitId), unit.state == WorkUnitState.active else { continue }
                let replicas = try await tx.replicas(workUnit: unit.id)
                try await reissue(unit, replicas: replicas, tx: tx)
                logger.info("replica \(replica.id) of unit \(unit.id) missed its deadline; reissued")
            }
        }
    }
}
