import Foundation
import XunxingProtocol
import XunxingSupport

/// How a running search is doing, as the search thread reports it after each trial.
public struct LiveProgress: Sendable, Equatable {
    public var trialsDone: Int
    public var trialCount: Int
    /// The trial this run started at (non-zero when resumed from a checkpoint).
    public var startedAtTrial: Int
    public var startedAt: Date
    /// Wall seconds per trial observed in this run, nil before the first trial.
    public var secondsPerTrial: Double?
    /// The search is making its FFT plans (before its first trial).
    public var planning = false

    public init(trialsDone: Int, trialCount: Int, startedAtTrial: Int, startedAt: Date, secondsPerTrial: Double? = nil,
                planning: Bool = false) {
        self.planning = planning
        self.trialsDone = trialsDone
        self.trialCount = trialCount
        self.startedAtTrial = startedAtTrial
        self.startedAt = startedAt
        self.secondsPerTrial = secondsPerTrial
    }
}

/// Something that went wrong, as `status` shows it until the next one.
public struct WorkerProblem: Codable, Sendable, Equatable {
    /// A sentence the volunteer can act on.
    public var message: String
    public var at: Date

    public init(_ message: String, at: Date = Date()) {
        self.message = message
        self.at = at
    }
}

/// What the daemon's threads share: the settings (reread when `config.json` changes), the pause
/// decision, the transfer backoff, live progress and the last problem.
public struct DaemonState: Sendable {
    /// The settings in force now.
    public var settings: RunSettings
    /// Why searches are paused now (nil: running).
    public var pauseReason: PauseReason?
    public var backoff: Backoff
    /// The coordinator's last answer said it has no unfinished work at all.
    public var projectIdle = false
    /// Progress of the searches running now, by replica.
    public var live: [String: LiveProgress] = [:]
    /// The volunteer's charity hours as last heard from the coordinator (kept while it is
    /// unreachable), and when they were heard.
    public var hours: Double?
    public var hoursUpdatedAt: Date?
    /// What the transfer thread is doing (e.g. "downloading <replica>").
    public var activity: String?
    /// The FFT size whose plan a spare core is measuring now.
    public var improvingPlan: Int?
    /// The last problem of any kind: a failed search, a unit given up or refused, a full disk,
    /// a key the coordinator refuses, a `config.json` that does not validate.
    public var lastError: WorkerProblem?
    /// Tasks the supervisor gave up, waiting for the transfer thread to tell the coordinator
    /// (the supervisor never blocks on the network); not started meanwhile.
    public var toAbandon: [String: AbandonRequest] = [:]
    /// No work is asked for before this time: the disk was too full for the last payload.
    public var diskFullUntil: Date?

    public init(settings: RunSettings) {
        self.settings = settings
        let c = settings.configuration
        self.backoff = Backoff(base: c.backoffBaseSeconds, cap: c.backoffCapSeconds)
    }
}
