import Foundation
import PulsarSearch
import WorkUnits
import XunxingProtocol

/// One assignment the worker holds: `tasks/<replica>/assignment.json`.
public struct TaskRecord: Codable, Sendable, Equatable {
    public var assignment: Assignment
    /// The coordinator confirmed it knows we have it.
    public var acknowledged: Bool
    /// The payload is complete and its SHA-256 matched.
    public var payloadVerified: Bool
    /// Downloads whose checksum did not match, so far.
    public var checksumFailures: Int
    public var receivedAt: Date
    /// Peak memory of the search, MB, from the downloaded payload's header (when the coordinator
    /// did not say).
    public var payloadMemoryMB: Int?

    enum CodingKeys: String, CodingKey {
        case assignment, acknowledged, payloadVerified = "payload_verified", checksumFailures = "checksum_failures"
        case receivedAt = "received_at", payloadMemoryMB = "payload_memory_mb"
    }

    public init(assignment: Assignment, acknowledged: Bool = false, payloadVerified: Bool = false,
                checksumFailures: Int = 0, receivedAt: Date = Date()) {
        self.assignment = assignment
        self.acknowledged = acknowledged
        self.payloadVerified = payloadVerified
        self.checksumFailures = checksumFailures
        self.receivedAt = receivedAt
    }

    public var replicaID: String { assignment.replicaID }

    /// Peak memory of this unit's search, MB: the coordinator's figure; for a unit from an older
    /// coordinator, the payload header's once downloaded, before that the least a payload of its
    /// size can need (see ``WorkUnitMemory``).
    public var memoryMB: Int {
        assignment.memoryMB ?? payloadMemoryMB ?? WorkUnitMemory.leastMegabytes(payloadBytes: assignment.payloadSize)
    }
}

/// Where a search stopped: `tasks/<replica>/checkpoint.json`, written after every trial.
public struct Checkpoint: Codable, Sendable, Equatable {
    /// The first trial not yet searched (trials are numbered series-major).
    public var nextTrial: Int
    /// Trials in the unit.
    public var trialCount: Int
    /// Outcomes of trials `0..<nextTrial` logged (the first lines of `trials.jsonl`): equal to
    /// `nextTrial` in a checkpoint that can be resumed.
    public var loggedTrials: Int
    /// Bytes of `trials.jsonl` holding them; anything after is cut off on resuming.
    public var logBytes: Int
    /// CPU seconds spent on the unit so far, over every run.
    public var cpuSeconds: Double
    /// Wall-clock seconds spent on the unit so far, over every run.
    public var elapsedSeconds: Double
    /// How many times the search was resumed from a checkpoint.
    public var resumes: Int
    public var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case nextTrial = "next_trial", trialCount = "trial_count", loggedTrials = "logged_trials"
        case logBytes = "log_bytes", cpuSeconds = "cpu_seconds"
        case elapsedSeconds = "elapsed_seconds", resumes, updatedAt = "updated_at"
    }

    public init(nextTrial: Int, trialCount: Int, loggedTrials: Int = 0, logBytes: Int = 0, cpuSeconds: Double,
                elapsedSeconds: Double, resumes: Int = 0, updatedAt: Date = Date()) {
        self.nextTrial = nextTrial
        self.trialCount = trialCount
        self.loggedTrials = loggedTrials
        self.logBytes = logBytes
        self.cpuSeconds = cpuSeconds
        self.elapsedSeconds = elapsedSeconds
        self.resumes = resumes
        self.updatedAt = updatedAt
    }

    /// Decodes a checkpoint; one written before trial logs has no `logged_trials` (0), so it
    /// does not fit its log and the search starts again.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        nextTrial = try c.decode(Int.self, forKey: .nextTrial)
        trialCount = try c.decode(Int.self, forKey: .trialCount)
        loggedTrials = try c.decodeIfPresent(Int.self, forKey: .loggedTrials) ?? 0
        logBytes = try c.decodeIfPresent(Int.self, forKey: .logBytes) ?? 0
        cpuSeconds = try c.decode(Double.self, forKey: .cpuSeconds)
        elapsedSeconds = try c.decode(Double.self, forKey: .elapsedSeconds)
        resumes = try c.decode(Int.self, forKey: .resumes)
        updatedAt = try c.decode(Date.self, forKey: .updatedAt)
    }

    /// Fraction of the unit done, 0...1.
    public var progress: Double { trialCount > 0 ? min(1, max(0, Double(nextTrial) / Double(trialCount))) : 0 }
}

/// A finished result awaiting upload: `results/<replica>.json`.
public struct PendingResult: Codable, Sendable, Equatable {
    public var replicaID: String
    public var result: WorkUnitResult
    public var finishedAt: Date
    /// Failed upload attempts so far.
    public var attempts: Int

    enum CodingKeys: String, CodingKey {
        case replicaID = "replica_id", result, finishedAt = "finished_at", attempts
    }

    public init(replicaID: String, result: WorkUnitResult, finishedAt: Date = Date(), attempts: Int = 0) {
        self.replicaID = replicaID
        self.result = result
        self.finishedAt = finishedAt
        self.attempts = attempts
    }
}

/// The fields of a stored ``PendingResult`` that the status shows, decoded without its candidates.
struct PendingUploadHeader: Decodable {
    struct Result: Decodable {
        let workUnitID: String
    }

    let replicaID: String
    let result: Result
    let finishedAt: Date
    let attempts: Int

    enum CodingKeys: String, CodingKey {
        case replicaID = "replica_id", result, finishedAt = "finished_at", attempts
    }
}
