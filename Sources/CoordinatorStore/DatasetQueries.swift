import Foundation
import SQLKit

extension SQLTransaction {
    public func insertDataset(_ d: DatasetRecord) async throws {
        try await run("""
            INSERT INTO datasets (id, owner_id, name, preset, state, file_path, sha256, size_bytes, dm_max, accel_max,
                                  dm_trials, duration, error, created_at, completed_at)
            VALUES (\(bind: d.id), \(bind: d.ownerId), \(bind: d.name), \(bind: d.preset), \(bind: d.state.rawValue), \(bind: d.filePath),
                    \(bind: d.sha256), \(bind: d.sizeBytes), \(bind: d.dmMax), \(bind: d.accelMax), \(bind: d.dmTrials),
                    \(bind: d.duration), \(bind: d.error), \(bind: d.createdAt), \(bind: d.completedAt))
            """)
    }

    public func dataset(id: String) async throws -> DatasetRecord? {
        try await record(DatasetRecord.self, "SELECT * FROM datasets WHERE id = \(bind: id)")
    }

    public func datasets(owner: String?) async throws -> [DatasetRecord] {
        if let owner {
            return try await records(DatasetRecord.self, "SELECT * FROM datasets WHERE owner_id = \(bind: owner) ORDER BY created_at")
        }
        return try await records(DatasetRecord.self, "SELECT * FROM datasets ORDER BY created_at")
    }

    /// Datasets their owners published, oldest first.
    public func publishedDatasets() async throws -> [DatasetRecord] {
        try await records(DatasetRecord.self, "SELECT * FROM datasets WHERE published_at IS NOT NULL ORDER BY created_at")
    }

    /// Publishes a dataset at `time`, or makes it private again (nil).
    public func setDatasetPublished(id: String, at time: Double?) async throws {
        try await run("UPDATE datasets SET published_at = \(bind: time) WHERE id = \(bind: id)")
    }

    public func datasets(state: DatasetState) async throws -> [DatasetRecord] {
        try await records(DatasetRecord.self, "SELECT * FROM datasets WHERE state = \(bind: state.rawValue) ORDER BY created_at")
    }

    public func setDatasetState(id: String, state: DatasetState, error: String? = nil, completedAt: Double? = nil) async throws {
        try await run("""
            UPDATE datasets SET state = \(bind: state.rawValue), error = \(bind: error), completed_at = \(bind: completedAt)
            WHERE id = \(bind: id)
            """)
    }

    /// Records what a dataset was split with: its DM trial count, length and (JSON) split plan.
    public func setDatasetPlan(id: String, dmTrials: Int, duration: Double, splitPlan: String? = nil) async throws {
        try await run("""
            UPDATE datasets SET dm_trials = \(bind: dmTrials), duration = \(bind: duration), split_plan = \(bind: splitPlan)
            WHERE id = \(bind: id)
            """)
    }

    /// Units of a dataset by state.
    public func unitCounts(dataset: String) async throws -> (total: Int, active: Int, validated: Int, error: Int) {
        let rows = try await all("SELECT state, COUNT(*) AS n FROM work_units WHERE dataset_id = \(bind: dataset) GROUP BY state")
        var counts = (total: 0, active: 0, validated: 0, error: 0)
        for row in rows {
            let n = try row.decode(column: "n", as: Int.self)
            counts.total += n
            switch WorkUnitState(rawValue: try row.decode(column: "state", as: String.self)) {
            case .active: counts.active += n
            case .validated: counts.validated += n
            case .error, nil: counts.error += n
            }
        }
        return counts
    }

    public func replaceCandidates(
        dataset: String, candidates: [(periodS: Double, dm: Double, sigma: Double, dmIndex: Int, body: String)]
    ) async throws {
        try await run("DELETE FROM candidates WHERE dataset_id = \(bind: dataset)")
        for (rank, c) in candidates.enumerated() {
            try await run("""
                INSERT INTO candidates (dataset_id, rank, period_s, dm, sigma, dm_index, body)
                VALUES (\(bind: dataset), \(bind: rank), \(bind: c.periodS), \(bind: c.dm), \(bind: c.sigma), \(bind: c.dmIndex),
                        \(bind: c.body))
                """)
        }
    }

    /// Candidate JSON bodies of a dataset, strongest first.
    public func candidateBodies(dataset: String) async throws -> [String] {
        try await all("SELECT body FROM candidates WHERE dataset_id = \(bind: dataset) ORDER BY rank").map {
            try $0.decode(column: "body", as: String.self)
        }
    }

    /// Replaces a dataset's single-pulse events (JSON bodies, in the order given: strongest first).
    public func replaceSinglePulseEvents(
        dataset: String, events: [(timeSeconds: Double, dm: Double, snr: Double, body: String)]
    ) async throws {
        try await run("DELETE FROM single_pulse_events WHERE dataset_id = \(bind: dataset)")
        for (rank, e) in events.enumerated() {
            try await run("""
                INSERT INTO single_pulse_events (dataset_id, rank, time_s, dm, snr, body)
                VALUES (\(bind: dataset), \(bind: rank), \(bind: e.timeSeconds), \(bind: e.dm), \(bind: e.snr), \(bind: e.body))
                """)
        }
    }

    /// Single-pulse event JSON bodies of a dataset, in stored order (strongest first).
    public func singlePulseEventBodies(dataset: String) async throws -> [String] {
        try await all("SELECT body FROM single_pulse_events WHERE dataset_id = \(bind: dataset) ORDER BY rank").map {
            try $0.decode(column: "body", as: String.self)
        }
    }

    /// Removes a dataset's work units and replicas (a split that is started again after a crash).
    public func deleteUnits(dataset: String) async throws {
        try await run("DELETE FROM replicas WHERE work_unit_id IN (SELECT id FROM work_units WHERE dataset_id = \(bind: dataset))")
        try await run("DELETE FROM work_units WHERE dataset_id = \(bind: dataset)")
    }
}
