import Foundation

/// How a running search is doing, as the search thread reports it after each trial.
public struct LiveProgress: Sendable, Equatable {
    public var trialsDone: Int
    public var trialCount: Int
    /// The trial this run started at (non-zero when resumed from a checkpoint).
    public var startedAtTrial: Int
    public var startedAt: Date
    /// Wall seconds per trial observed in this run, nil before the first trial.
    public var secondsPerTrial: Double?

    public init(trialsDone: Int, trialCount: Int, startedAtTrial: Int, startedAt: Date, secondsPerTrial: Double? = nil) {
        self.trialsDone = trialsDone
        self.trialCount = trialCount
        self.startedAtTrial = startedAtTrial
        self.startedAt = startedAt
        self.secondsPerTrial = secondsPerTrial
    }
}

/// What the daemon's threads share: the pause decision, the transfer backoff, live progress.
public struct DaemonState: Sendable {
    /// Why searches are paused now (nil: running).
    public var pauseReason: PauseReason?
    public var backoff: Backoff
    /// The coordinator's last answer said it has no unfinished work at all.
    public var projectIdle = false
    /// Progress of the searches running now, by replica.
    public var live: [String: LiveProgress] = [:]
    /// The volunteer's charity hours, when the coordinator offers them.
    public var hours: Double?
    /// What the transfer thread is doing (e.g. "downloading <replica>").
    public var activity: String?

    public init(backoff: Backoff) {
        self.backoff = backoff
    }
}
