import Foundation
import Synchronization

/// Where the coordinator's services read the time (seconds since 1970): deadlines, leases of
/// replicas, daily caps, link codes and ledger days. The system clock in production; a
/// ``ManualClock`` in tests, which advance it instead of sleeping.
public protocol CoordinatorClock: Sendable {
    /// Now, in seconds since 1970.
    func now() -> Double
}

/// The machine's clock.
public struct SystemClock: CoordinatorClock {
    public init() {}
    public func now() -> Double { Date().timeIntervalSince1970 }
}

/// A clock that moves only when told: tests set a deadline, advance past it and run the job.
public final class ManualClock: CoordinatorClock {
    private let seconds: Mutex<Double>

    public init(_ start: Double = Date().timeIntervalSince1970) { seconds = Mutex(start) }

    public func now() -> Double { seconds.withLock { $0 } }

    /// Moves the clock forward by `interval` seconds.
    public func advance(by interval: Double) { seconds.withLock { $0 += interval } }
}
