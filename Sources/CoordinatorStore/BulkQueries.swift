import Foundation
import SQLKit

/// The payload many seeded units share (load runs and benchmarks seed units in bulk, not one
/// split at a time).
public struct SeededUnitTemplate: Sendable {
    public var payloadPath: String
    public var sha256: String
    public var size: Int64
    public var cost: Double

    public init(payloadPath: String, sha256: String, size: Int64, cost: Double) {
        self.payloadPath = payloadPath
        self.sha256 = sha256
        self.size = size
        self.cost = cost
    }
}

/// What an audit of a dataset reads: its units by state, its replicas' states and its credits.
public struct DatasetLedgerAudit: Sendable, Equatable {
    public var units: Int
    public var validated: Int
    public var errors: Int
    /// Every replica of the dataset's units, by id.
    public var replicaStates: [String: ReplicaState]
    /// Credit entries, the replicas they name (distinct), and their hours.
    public var credits: Int
    public var distinctCreditedReplicas: Int
    public var hoursCredited: Double
}

extension SQLTransaction {
    /// Inserts units `prefix-first` ... `prefix-(first + count - 1)` of `dataset` in one statement,
    /// each with two replicas: unsent, or (with `history`) valid with a stored result from that
    /// host and volunteer. For load runs and benchmarks that need many units fast.
    public func insertSeededUnits(
        prefix: String, dataset: String, first: Int, count: Int, state: WorkUnitState, template unit: SeededUnitTemplate,
        createdAt: Double, history: (host: String, account: String)? = nil
    ) async throws {
        guard count > 0 else { return }
        let numbers: SQLQueryString = """
            WITH RECURSIVE n(i) AS (SELECT \(literal: first) UNION ALL SELECT i + 1 FROM n WHERE i < \(literal: first + count - 1))
            """
        let canonical: SQLQueryString = history == nil ? "NULL" : "\(bind: prefix) || '-' || i || '-a'"
        try await run("""
            \(numbers)
            INSERT INTO work_units (id, dataset_id, seq, state, payload_path, payload_sha256, payload_size, estimated_cost,
                duration, reporting_threshold, series_count, target_results, max_replicas, deadline_seconds,
                canonical_replica, created_at, validated_at, dm_first, dm_count)
            SELECT \(bind: prefix) || '-' || i, \(bind: dataset), i, \(bind: state.rawValue), \(bind: unit.payloadPath),
                \(bind: unit.sha256), \(bind: unit.size), \(bind: unit.cost), 10.0, 6.0, 1, 2, 4, 3600.0,
                \(canonical), \(bind: createdAt) + i * 0.000001, NULL, 0, 1
            FROM n
            """)
        for copy in ["a", "b"] {
            if let history {
                let result = #"{"candidates":[],"cpu_seconds":5,"elapsed_seconds":5,"series_searched":1,"software":"history","work_unit_id":""#
                try await run("""
                    \(numbers)
                    INSERT INTO replicas (id, work_unit_id, state, host_id, account_id, created_at, sent_at, acked_at,
                        deadline, reported_at, cpu_seconds, result)
                    SELECT \(bind: prefix) || '-' || i || '-' || \(bind: copy), \(bind: prefix) || '-' || i,
                        \(bind: ReplicaState.valid.rawValue), \(bind: history.host), \(bind: history.account), \(bind: createdAt),
                        \(bind: createdAt), \(bind: createdAt), \(bind: createdAt + 3600), \(bind: createdAt + 60), 5.0,
                        \(bind: result) || \(bind: prefix) || '-' || i || '"}'
                    FROM n
                    """)
            } else {
                try await run("""
                    \(numbers)
                    INSERT INTO replicas (id, work_unit_id, state, created_at)
                    SELECT \(bind: prefix) || '-' || i || '-' || \(bind: copy), \(bind: prefix) || '-' || i,
                        \(bind: ReplicaState.unsent.rawValue), \(bind: createdAt) + i * 0.000001
                    FROM n
                    """)
            }
        }
    }

    /// The counts an audit of `dataset` checks against what a fleet was told.
    public func ledgerAudit(dataset: String) async throws -> DatasetLedgerAudit {
        let counts = try await unitCounts(dataset: dataset)
        var states: [String: ReplicaState] = [:]
        for row in try await all("""
            SELECT r.id AS id, r.state AS state FROM replicas r JOIN work_units u ON u.id = r.work_unit_id
            WHERE u.dataset_id = \(bind: dataset)
            """) {
            states[try row.decode(column: "id", as: String.self)] = try row.decode(column: "state", as: ReplicaState.self)
        }
        let ledger = try await first("""
            SELECT COUNT(*) AS n, COUNT(DISTINCT replica_id) AS d, COALESCE(SUM(hours), 0) AS h FROM hours_ledger
            WHERE dataset_id = \(bind: dataset) AND kind = \(bind: LedgerEntryKind.credit.rawValue)
            """)
        return DatasetLedgerAudit(
            units: counts.total, validated: counts.validated, errors: counts.error, replicaStates: states,
            credits: try ledger?.decode(column: "n", as: Int.self) ?? 0,
            distinctCreditedReplicas: try ledger?.decode(column: "d", as: Int.self) ?? 0,
            hoursCredited: try ledger?.decode(column: "h", as: Double.self) ?? 0)
    }

    /// The newest dataset `xunxing-loadgen seed` made (`lg-RUN-active`), if any.
    public func latestSeededDataset() async throws -> String? {
        try await first("SELECT id FROM datasets WHERE id LIKE 'lg-%-active' ORDER BY created_at DESC LIMIT 1")?
            .decode(column: "id", as: String.self)
    }
}
