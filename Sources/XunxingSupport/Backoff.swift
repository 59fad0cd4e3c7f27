import Foundation

/// Retry timing after failures: exponential with full jitter. After the n-th consecutive failure
/// the next attempt waits a delay drawn uniformly from `0...min(cap, base * 2^(n-1))`, so a crowd
/// of workers that lost the coordinator together does not return together. A success resets it.
/// The worker's transfers and the coordinator's pushes to the profile platform both use it.
public struct Backoff: Sendable, Equatable {
    public let base: Double
    public let cap: Double
    /// Consecutive failures so far.
    public private(set) var failures = 0
    /// The delay chosen after the last failure, seconds.
    public private(set) var delay: Double = 0
    /// No attempt before this time (nil: attempt now).
    public private(set) var nextAttempt: Date?
    /// What the last failure was.
    public private(set) var lastError: String?

    public init(base: Double, cap: Double) {
        self.base = base
        self.cap = max(base, cap)
    }

    /// The upper bound of the delay after `failures` consecutive failures (0 for none).
    public static func bound(failures: Int, base: Double, cap: Double) -> Double {
        guard failures > 0 else { return 0 }
        let exponent = Double(min(failures - 1, 62))
        return min(cap, base * pow(2, exponent))
    }

    /// A delay after `failures` consecutive failures: `unit` (0..<1) of the bound.
    public static func delay(
        failures: Int, base: Double, cap: Double, unit: () -> Double = { Double.random(in: 0..<1) }
    ) -> Double {
        bound(failures: failures, base: base, cap: cap) * min(max(unit(), 0), 1)
    }

    /// The current delay bound.
    public var bound: Double { Self.bound(failures: failures, base: base, cap: cap) }

    /// Whether an attempt may be made at `now`.
    public func mayAttempt(at now: Date = Date()) -> Bool {
        guard let nextAttempt else { return true }
        return now >= nextAttempt
    }

    /// Records a failure and returns the delay chosen. `unit` draws from 0..<1 (injectable for tests).
    @discardableResult
    public mutating func recordFailure(
        _ error: String, at now: Date = Date(), unit: () -> Double = { Double.random(in: 0..<1) }
    ) -> Double {
        failures += 1
        delay = bound * min(max(unit(), 0), 1)
        nextAttempt = now.addingTimeInterval(delay)
        lastError = error
        return delay
    }

    /// Records a success: the next attempt may be made at once.
    public mutating func recordSuccess() {
        failures = 0
        delay = 0
        nextAttempt = nil
        lastError = nil
    }

    /// The state as `status` shows it.
    public var status: BackoffStatus {
        BackoffStatus(
            failures: failures, delaySeconds: delay, boundSeconds: bound, nextAttemptAt: nextAttempt, lastError: lastError)
    }
}

/// The backoff state in `status.json`.
public struct BackoffStatus: Codable, Sendable, Equatable {
    /// Consecutive failed attempts to reach the coordinator (0: all well).
    public var failures: Int
    /// The delay chosen after the last failure, seconds.
    public var delaySeconds: Double
    /// The current upper bound of the delay, seconds.
    public var boundSeconds: Double
    public var nextAttemptAt: Date?
    public var lastError: String?

    enum CodingKeys: String, CodingKey {
        case failures, delaySeconds = "delay_seconds", boundSeconds = "bound_seconds"
        case nextAttemptAt = "next_attempt_at", lastError = "last_error"
    }

    public init(failures: Int, delaySeconds: Double, boundSeconds: Double, nextAttemptAt: Date?, lastError: String?) {
        self.failures = failures
        self.delaySeconds = delaySeconds
        self.boundSeconds = boundSeconds
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(failures, forKey: .failures)
        try c.encode(delaySeconds, forKey: .delaySeconds)
        try c.encode(boundSeconds, forKey: .boundSeconds)
        try c.encode(nextAttemptAt, forKey: .nextAttemptAt)
        try c.encode(lastError, forKey: .lastError)
    }
}
