#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The CPU-use limit as a duty cycle: after a trial that took `busy` CPU seconds a search thread
/// rests `busy * (100 / limit - 1)` seconds, so over time it uses `limit` percent of its core.
public struct DutyCycle: Sendable, Equatable {
    /// Percent of a core a search may use, 1...100.
    public let limitPercent: Double

    public init(limitPercent: Double) {
        self.limitPercent = min(100, max(1, limitPercent))
    }

    /// Seconds to rest after `busy` seconds of work.
    public func rest(afterBusy busy: Double) -> Double {
        guard limitPercent < 100, busy > 0 else { return 0 }
        return busy * (100 / limitPercent - 1)
    }

    /// The wall-clock time the work of `cpuSeconds` takes under this limit.
    public func wallSeconds(forCPUSeconds cpuSeconds: Double) -> Double {
        cpuSeconds * 100 / limitPercent
    }
}
