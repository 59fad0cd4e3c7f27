import Foundation
import XunxingSupport

/// What `xunxing-worker status` shows, and what the daemon writes to `status.json` every loop
/// interval. JSON keys are snake_case; absent values are `null`, never missing.
public struct WorkerStatus: Codable, Sendable, Equatable {
    /// The daemon is running (it holds `worker.lock`).
    public var running: Bool
    public var updatedAt: Date
    public var coordinator: String
    public var hostID: String
    /// Why searches are paused, or nil.
    public var pausedReason: String?
    public var cores: Int
    public var cpuLimitPercent: Double
    public var speed: Double
    public var tasks: [TaskStatus]
    public var pendingUploads: [PendingUploadStatus]
    public var backoff: BackoffStatus
    /// The volunteer's charity hours as last heard from the coordinator (the figure stays while it
    /// is unreachable); nil when it has never answered.
    public var hours: Double?
    /// When `hours` was heard.
    public var hoursUpdatedAt: Date?
    /// What the worker is doing now, one line each ("searching ...", "planning FFTs for ...",
    /// "downloading ..."); absent in files from older versions.
    public var now: [String]?
    /// The last problem of any kind, until a newer one.
    public var lastError: WorkerProblem?
    /// Memory the searches may use together, MB.
    public var memoryLimitMB: Int?

    enum CodingKeys: String, CodingKey {
        case running, updatedAt = "updated_at", coordinator, hostID = "host_id", pausedReason = "paused_reason"
        case cores, cpuLimitPercent = "cpu_limit_percent", speed, tasks, pendingUploads = "pending_uploads", backoff, hours
        case hoursUpdatedAt = "hours_updated_at", now, lastError = "last_error", memoryLimitMB = "memory_limit_mb"
    }

    public init(running: Bool, updatedAt: Date, coordinator: String, hostID: String, pausedReason: String?, cores: Int,
                cpuLimitPercent: Double, speed: Double, tasks: [TaskStatus], pendingUploads: [PendingUploadStatus],
                backoff: BackoffStatus, hours: Double?) {
        self.running = running
        self.updatedAt = updatedAt
        self.coordinator = coordinator
        self.hostID = hostID
        self.pausedReason = pausedReason
        self.cores = cores
        self.cpuLimitPercent = cpuLimitPercent
        self.speed = speed
        self.tasks = tasks
        self.pendingUploads = pendingUploads
        self.backoff = backoff
        self.hours = hours
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(running, forKey: .running)
        try c.encode(updatedAt, forKey: .updatedAt)
        try c.encode(coordinator, forKey: .coordinator)
        try c.encode(hostID, forKey: .hostID)
        try c.encode(pausedReason, forKey: .pausedReason)
        try c.encode(cores, forKey: .cores)
        try c.encode(cpuLimitPercent, forKey: .cpuLimitPercent)
        try c.encode(speed, forKey: .speed)
        try c.encode(tasks, forKey: .tasks)
        try c.encode(pendingUploads, forKey: .pendingUploads)
        try c.encode(backoff, forKey: .backoff)
        try c.encode(hours, forKey: .hours)
        try c.encode(hoursUpdatedAt, forKey: .hoursUpdatedAt)
        try c.encode(now ?? [], forKey: .now)
        try c.encode(lastError, forKey: .lastError)
        try c.encode(memoryLimitMB, forKey: .memoryLimitMB)
    }
}

/// One task in `status`.
public struct TaskStatus: Codable, Sendable, Equatable {
    public var replicaID: String
    public var workUnitID: String
    /// `acknowledging`, `downloading`, `ready`, `planning FFTs`, `running` or `paused`.
    public var state: String
    /// Fraction done, 0...1.
    public var progress: Double
    /// Estimated wall-clock seconds until the search is done (nil when unknown).
    public var secondsLeft: Double?
    public var trialsDone: Int
    public var trialCount: Int?
    /// Reference-core seconds of work, as the coordinator estimated.
    public var estimatedCost: Double
    public var deadline: Date

    enum CodingKeys: String, CodingKey {
        case replicaID = "replica_id", workUnitID = "work_unit_id", state, progress, secondsLeft = "seconds_left"
        case trialsDone = "trials_done", trialCount = "trial_count", estimatedCost = "estimated_cost", deadline
    }

    public init(replicaID: String, workUnitID: String, state: String, progress: Double, secondsLeft: Double?,
                trialsDone: Int, trialCount: Int?, estimatedCost: Double, deadline: Date) {
        self.replicaID = replicaID
        self.workUnitID = workUnitID
        self.state = state
        self.progress = progress
        self.secondsLeft = secondsLeft
        self.trialsDone = trialsDone
        self.trialCount = trialCount
        self.estimatedCost = estimatedCost
        self.deadline = deadline
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(replicaID, forKey: .replicaID)
        try c.encode(workUnitID, forKey: .workUnitID)
        try c.encode(state, forKey: .state)
        try c.encode(progress, forKey: .progress)
        try c.encode(secondsLeft, forKey: .secondsLeft)
        try c.encode(trialsDone, forKey: .trialsDone)
        try c.encode(trialCount, forKey: .trialCount)
        try c.encode(estimatedCost, forKey: .estimatedCost)
        try c.encode(deadline, forKey: .deadline)
    }
}

/// A finished result waiting for upload.
public struct PendingUploadStatus: Codable, Sendable, Equatable {
    public var replicaID: String
    public var workUnitID: String
    public var finishedAt: Date
    public var attempts: Int

    enum CodingKeys: String, CodingKey {
        case replicaID = "replica_id", workUnitID = "work_unit_id", finishedAt = "finished_at", attempts
    }

    public init(replicaID: String, workUnitID: String, finishedAt: Date, attempts: Int) {
        self.replicaID = replicaID
        self.workUnitID = workUnitID
        self.finishedAt = finishedAt
        self.attempts = attempts
    }
}
