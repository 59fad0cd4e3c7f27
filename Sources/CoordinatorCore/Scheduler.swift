import CoordinatorStore
import Foundation
import XunxingProtocol

/// Hands replicas to hosts, takes their acknowledgements, and takes back what they give up.
public struct Scheduler: DomainService {
    let environment: CoordinatorEnvironment
    let replication: Replication

    /// Hands a host replicas worth about the seconds of work it asked for: unsent replicas of
    /// active units whose search fits the memory the host offers (`memory_mb`), in random order among the `schedulingWindow` oldest it may have, never one of
    /// a unit this host, its volunteer or (when `network` is given) another host on its network
    /// already had. The random choice means two hosts that ask one after the other do not get the
    /// two replicas of one unit because they asked together: a pair colluding from two networks
    /// shares a unit about once in `schedulingWindow` tries instead of every time.
    public func assign(host: String, account: String, network: String?, request: WorkRequest) async throws -> WorkResponse {
        let now = clock.now()
        let capacity = request.seconds * Double(request.cores) * request.speed
        let acknowledgeBy = now + configuration.acknowledgeTimeout
        let chosen = try await store.transaction { tx -> [AssignableReplica] in
            // One volunteer's requests (from any of their hosts, to any coordinator) are served one
            // at a time, so two replicas of a unit can never both go to them.
            try await tx.lockRow(table: .accounts, id: account)
            try await tx.touchHost(id: host, cores: request.cores, memoryMB: request.memoryMB, speed: request.speed, at: now)
            // No hoarding: at most so many unreported replicas per core (as registered, or fewer).
            let cores = try await tx.host(id: host)?.cores ?? 1
            let room = max(0, self.configuration.maxInProgressPerCore * max(1, cores) - (try await tx.inProgressCount(host: host)))
            let most = min(room, request.maxUnits ?? Int.max)
            var chosen: [AssignableReplica] = []
            if most == 0 { return chosen }
            var units = Set<String>()
            var seen = Set<String>()
            var budget = 0.0
            // A window first (most requests want a unit or two), a larger one if that was not enough.
            var limit = max(1, self.configuration.schedulingWindow)
            while true {
                let page = try await tx.assignableReplicas(
                    host: host, account: account, network: network, memoryMB: request.memoryMB > 0 ? request.memoryMB : nil,
                    limit: limit).shuffled()
                var filled = false
                for candidate in page where seen.insert(candidate.replicaId).inserted {
                    if units.contains(candidate.workUnitId) { continue }
                    // A host that holds at most so many tasks would refuse the rest, and a refused
                    // replica waits out its acknowledgement timeout before anyone else gets it;
                    // and no host holds more than its share unreported.
                    if chosen.count >= most {
                        filled = true
                        break
                    }
                    if !chosen.isEmpty && budget + candidate.estimatedCost > capacity {
                        filled = true
                        break
                    }
                    if try await tx.assignReplica(
                        id: candidate.replicaId, host: host, account: account, network: network, at: now, deadline: acknowledgeBy)
                    {
                        chosen.append(candidate)
                        units.insert(candidate.workUnitId)
                        budget += candidate.estimatedCost
                    }
                }
                if filled || page.count < limit || limit >= 64 { break }
                limit = max(64, limit)
            }
            return chosen
        }
        metrics.replicasAssigned.increment(by: Int64(chosen.count))
        let assignments = chosen.map {
            Assignment(
                replicaID: $0.replicaId, workUnitID: $0.workUnitId,
                payloadURL: "\(APIVersion.path)/workunits/\($0.workUnitId)/payload", payloadSHA256: $0.payloadSha256,
                payloadSize: $0.payloadSize, estimatedCost: $0.estimatedCost,
                deadline: Date(timeIntervalSince1970: now + $0.deadlineSeconds), memoryMB: $0.memoryMb)
        }
        var idle = false
        if assignments.isEmpty {
            idle = try await !store.read { try await $0.unfinishedWorkExists() }
        }
        let retry = assignments.isEmpty ? max(1, min(60, configuration.jobInterval * 2)) : 0
        return WorkResponse(assignments: assignments, projectIdle: idle, retryAfterSeconds: retry)
    }

    /// The host confirms it has the replica; from now the unit's full deadline applies.
    public func acknowledge(replica id: String, host: String) async throws {
        try await store.transaction { tx in
            guard let replica = try await tx.replica(id: id) else { throw DomainError.notFound("replica \(id)") }
            guard replica.hostId == host else { throw DomainError.forbidden("replica \(id) is assigned to another host") }
            switch replica.state {
            case ReplicaState.assigned:
                guard let unit = try await tx.workUnit(id: replica.workUnitId) else { throw DomainError.notFound("work unit") }
                let now = clock.now()
                try await tx.acknowledgeReplica(id: id, at: now, deadline: now + unit.deadlineSeconds)
            case ReplicaState.acknowledged, ReplicaState.reported, ReplicaState.valid, ReplicaState.invalid:
                return  // already acknowledged: acknowledging again is harmless
            default:
                throw DomainError.conflict("replica \(id) is \(replica.state): its deadline passed and it was reissued")
            }
        }
    }

    /// The host gives a replica up (a bad payload, repeated failures, its volunteer detaching, a
    /// full disk): it is lost at once and its unit sent to someone else, instead of waiting out its
    /// deadline. Returns false when the replica was already given up (a repeated call).
    public func abandon(replica id: String, host: String, reason: String, kind: AbandonKind = .other) async throws -> Bool {
        let abandoned = try await store.transaction { tx -> Bool in
            guard let located = try await tx.replica(id: id) else { throw DomainError.notFound("replica \(id)") }
            try await tx.lockRow(table: .workUnits, id: located.workUnitId)
            guard let replica = try await tx.replica(id: id), replica.hostId == host else {
                throw DomainError.forbidden("replica \(id) is assigned to another host")
            }
            switch replica.state {
            case ReplicaState.assigned, ReplicaState.acknowledged: break
            case ReplicaState.lost: return false
            default: throw DomainError.conflict("replica \(id) is \(replica.state): its result is in and cannot be given up")
            }
            try await tx.setReplicaState(id: id, state: ReplicaState.lost)
            if let unit = try await tx.workUnit(id: replica.workUnitId), unit.state == WorkUnitState.active {
                try await replication.reissue(unit, replicas: try await tx.replicas(workUnit: unit.id), tx: tx)
            }
            return true
        }
        if abandoned {
            metrics.replicaAbandoned(kind)
            logger.notice("host \(host) gave up replica \(id) (\(kind.rawValue)): \(reason)")
        }
        return abandoned
    }
}
