import Foundation
import SQLKit

/// A replica that could go to a host, with the unit facts the scheduler needs.
public struct AssignableReplica: Codable, Sendable, Equatable {
    public var replicaId: String
    public var workUnitId: String
    public var estimatedCost: Double
    public var deadlineSeconds: Double
    public var payloadSha256: String
    public var payloadSize: Int64
    public var memoryMb: Int?
}

extension SQLTransaction {
    public func insertWorkUnit(_ u: WorkUnitRecord) async throws {
        try await run("""
            INSERT INTO work_units (id, dataset_id, seq, state, payload_path, payload_sha256, payload_size, estimated_cost,
                                    duration, reporting_threshold, series_count, target_results, max_replicas,
                                    deadline_seconds, canonical_replica, created_at, validated_at, dm_first, dm_count, memory_mb)
            VALUES (\(bind: u.id), \(bind: u.datasetId), \(bind: u.seq), \(bind: u.state.rawValue), \(bind: u.payloadPath),
                    \(bind: u.payloadSha256), \(bind: u.payloadSize), \(bind: u.estimatedCost), \(bind: u.duration),
                    \(bind: u.reportingThreshold), \(bind: u.seriesCount), \(bind: u.targetResults), \(bind: u.maxReplicas),
                    \(bind: u.deadlineSeconds), \(bind: u.canonicalReplica), \(bind: u.createdAt), \(bind: u.validatedAt),
                    \(bind: u.dmFirst), \(bind: u.dmCount), \(bind: u.memoryMb))
            """)
    }

    public func insertReplica(id: String, workUnit: String, at time: Double) async throws {
        try await run("""
            INSERT INTO replicas (id, work_unit_id, state, created_at)
            VALUES (\(bind: id), \(bind: workUnit), \(bind: ReplicaState.unsent.rawValue), \(bind: time))
            """)
    }

    public func workUnit(id: String) async throws -> WorkUnitRecord? {
        try await record(WorkUnitRecord.self, "SELECT * FROM work_units WHERE id = \(bind: id)")
    }

    public func workUnits(dataset: String) async throws -> [WorkUnitRecord] {
        try await records(WorkUnitRecord.self, "SELECT * FROM work_units WHERE dataset_id = \(bind: dataset) ORDER BY seq")
    }

    public func replica(id: String) async throws -> ReplicaRecord? {
        try await record(ReplicaRecord.self, "SELECT * FROM replicas WHERE id = \(bind: id)")
    }

    public func replicas(workUnit: String) async throws -> [ReplicaRecord] {
        try await records(ReplicaRecord.self, "SELECT * FROM replicas WHERE work_unit_id = \(bind: workUnit) ORDER BY created_at, id")
    }

    /// Unsent replicas of active units that neither this host nor its volunteer nor (when given)
    /// another host on its `network` already has (in any state), oldest first (a replica is dated with its unit, so this walks the `replicas_state`
    /// index and stops after `limit` rows however many units are stored). On PostgreSQL the rows are locked and skipped by concurrent
    /// schedulers. With `memoryMB`, only units whose search fits in that much memory (or whose
    /// memory is not recorded).
    public func assignableReplicas(host: String, account: String, network: String? = nil, memoryMB: Int? = nil,
                                   limit: Int) async throws -> [AssignableReplica] {
        let lock: SQLQueryString = dialect == .postgres ? " FOR UPDATE OF r SKIP LOCKED" : ""
        let fits: SQLQueryString = memoryMB.map { " AND (u.memory_mb IS NULL OR u.memory_mb <= \(bind: $0))" } ?? ""
        return try await records(AssignableReplica.self, """
            SELECT r.id AS replica_id, r.work_unit_id AS work_unit_id, u.estimated_cost AS estimated_cost,
                   u.deadline_seconds AS deadline_seconds, u.payload_sha256 AS payload_sha256, u.payload_size AS payload_size,
                   u.memory_mb AS memory_mb
            FROM replicas r JOIN work_units u ON u.id = r.work_unit_id
            WHERE r.state = \(bind: ReplicaState.unsent.rawValue) AND u.state = \(bind: WorkUnitState.active.rawValue)\(fits)
              AND NOT EXISTS (
                SELECT 1 FROM replicas o
                WHERE o.work_unit_id = r.work_unit_id AND o.state <> \(bind: ReplicaState.unsent.rawValue)
                  AND (o.host_id = \(bind: host) OR o.account_id = \(bind: account) OR o.network = \(bind: network)))
            ORDER BY r.created_at
            LIMIT \(literal: limit)\(lock)
            """)
    }

    /// Hands a replica to a host; true when it was still unsent.
    public func assignReplica(
        id: String, host: String, account: String, network: String? = nil, at time: Double, deadline: Double
    ) async throws -> Bool {
        let rows = try await all("""
            UPDATE replicas SET state = \(bind: ReplicaState.assigned.rawValue), host_id = \(bind: host), account_id = \(bind: account),
                   network = \(bind: network), sent_at = \(bind: time), deadline = \(bind: deadline)
            WHERE id = \(bind: id) AND state = \(bind: ReplicaState.unsent.rawValue)
            RETURNING id
            """)
        return !rows.isEmpty
    }

    public func acknowledgeReplica(id: String, at time: Double, deadline: Double) async throws {
        try await run("""
            UPDATE replicas SET state = \(bind: ReplicaState.acknowledged.rawValue), acked_at = \(bind: time), deadline = \(bind: deadline)
            WHERE id = \(bind: id)
            """)
    }

    public func storeResult(replica: String, json: String, cpuSeconds: Double, peaks: Int = 0, at time: Double) async throws {
        try await run("""
            UPDATE replicas SET state = \(bind: ReplicaState.reported.rawValue), result = \(bind: json), cpu_seconds = \(bind: cpuSeconds),
                   peaks_measured = \(bind: peaks), reported_at = \(bind: time)
            WHERE id = \(bind: replica)
            """)
    }

    public func setReplicaState(id: String, state: ReplicaState) async throws {
        try await run("UPDATE replicas SET state = \(bind: state.rawValue) WHERE id = \(bind: id)")
    }

    public func deleteUnsentReplicas(workUnit: String) async throws {
        try await run("DELETE FROM replicas WHERE work_unit_id = \(bind: workUnit) AND state = \(bind: ReplicaState.unsent.rawValue)")
    }

    public func setWorkUnitTarget(id: String, targetResults: Int) async throws {
        try await run("UPDATE work_units SET target_results = \(bind: targetResults) WHERE id = \(bind: id)")
    }

    public func finishWorkUnit(id: String, state: WorkUnitState, canonical: String?, at time: Double) async throws {
        try await run("""
            UPDATE work_units SET state = \(bind: state.rawValue), canonical_replica = \(bind: canonical), validated_at = \(bind: time)
            WHERE id = \(bind: id)
            """)
    }

    /// A host's replicas in `state`.
    /// Records which DM trials a unit holds (for units created before migration 2 recorded it).
    public func setUnitDMRange(id: String, first: Int, count: Int) async throws {
        try await run("UPDATE work_units SET dm_first = \(bind: first), dm_count = \(bind: count) WHERE id = \(bind: id)")
    }

    /// Replicas a host holds and has not reported yet (assigned or acknowledged).
    public func inProgressCount(host: String) async throws -> Int {
        try await count("""
            SELECT COUNT(*) AS n FROM replicas
            WHERE host_id = \(bind: host) AND state IN (\(bind: ReplicaState.assigned.rawValue), \(bind: ReplicaState.acknowledged.rawValue))
            """)
    }

    public func replicas(host: String, state: ReplicaState) async throws -> [ReplicaRecord] {
        try await records(ReplicaRecord.self, """
            SELECT * FROM replicas WHERE host_id = \(bind: host) AND state = \(bind: state.rawValue) ORDER BY id
            """)
    }

    /// Makes a finished unit active again with no canonical result and `targetResults`: its
    /// validation is undone (a result it rested on was forged).
    public func reopenWorkUnit(id: String, targetResults: Int) async throws {
        try await run("""
            UPDATE work_units SET state = \(bind: WorkUnitState.active.rawValue), canonical_replica = NULL, validated_at = NULL,
                                  target_results = \(bind: targetResults)
            WHERE id = \(bind: id)
            """)
    }

    /// Replicas out with a host whose deadline has passed.
    public func overdueReplicas(now: Double, limit: Int = 1000) async throws -> [ReplicaRecord] {
        try await records(ReplicaRecord.self, """
            SELECT * FROM replicas
            WHERE state IN (\(bind: ReplicaState.assigned.rawValue), \(bind: ReplicaState.acknowledged.rawValue)) AND deadline < \(bind: now)
            ORDER BY deadline LIMIT \(literal: limit)
            """)
    }

    /// True when the host holds a live or finished replica of the unit (so may fetch its payload).
    public func hostHoldsUnit(host: String, workUnit: String) async throws -> Bool {
        try await count("""
            SELECT COUNT(*) AS n FROM replicas
            WHERE work_unit_id = \(bind: workUnit) AND host_id = \(bind: host)
              AND state IN (\(bind: ReplicaState.assigned.rawValue), \(bind: ReplicaState.acknowledged.rawValue), \(bind: ReplicaState.reported.rawValue))
            """) > 0
    }

    /// Whether any dataset still has work to hand out or collect (an index probe, not a count:
    /// idle hosts ask this on every poll).
    public func unfinishedWorkExists() async throws -> Bool {
        try await count("""
            SELECT CASE WHEN EXISTS (SELECT 1 FROM work_units WHERE state = \(bind: WorkUnitState.active.rawValue))
                          OR EXISTS (SELECT 1 FROM datasets WHERE state = \(bind: DatasetState.splitting.rawValue))
                        THEN 1 ELSE 0 END AS n
            """) > 0
    }

    /// Datasets whose every unit is finished while the dataset is still searching.
    public func datasetsReadyToAssimilate() async throws -> [DatasetRecord] {
        try await records(DatasetRecord.self, """
            SELECT * FROM datasets d
            WHERE d.state = \(bind: DatasetState.searching.rawValue)
              AND NOT EXISTS (SELECT 1 FROM work_units u WHERE u.dataset_id = d.id AND u.state = \(bind: WorkUnitState.active.rawValue))
            ORDER BY d.created_at
            """)
    }
}
