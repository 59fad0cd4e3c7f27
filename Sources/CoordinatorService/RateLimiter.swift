import CoordinatorCore
import Foundation

/// Per-key token buckets: each key may make `rate` requests per second on average, in bursts of
/// up to `burst`. A key over its budget is told how long to wait. Held in memory per coordinator
/// process (several coordinators each enforce their own share). Buckets refill by the
/// coordinator's clock, so tests move time on instead of waiting for it.
final class RateLimiter: @unchecked Sendable {
    let rate: Double
    let burst: Double
    private let clock: any CoordinatorClock
    private let lock = NSLock()
    private var buckets: [String: (tokens: Double, updated: Double)] = [:]
    private let maxKeys = 200_000

    /// `rate` <= 0 turns limiting off.
    init(rate: Double, burst: Double, clock: any CoordinatorClock) {
        self.rate = rate
        self.burst = max(1, burst)
        self.clock = clock
    }

    /// Takes one token for `key`; nil when allowed, else the seconds until one is available.
    func take(_ key: String) -> Double? {
        guard rate > 0 else { return nil }
        let now = clock.now()
        return lock.withLock {
            var bucket = buckets[key] ?? (burst, now)
            bucket.tokens = min(burst, bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
            defer { buckets[key] = bucket }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                if buckets.count >= maxKeys { prune(now: now) }
                return nil
            }
            return (1 - bucket.tokens) / rate
        }
    }

    /// Forgets keys whose buckets have refilled (they behave exactly like new keys).
    private func prune(now: Double) {
        buckets = buckets.filter { $0.value.tokens + (now - $0.value.updated) * rate < burst }
    }
}

/// Principals by secret hash, so that authenticating a request needs no database round trip.
/// Credentials are never edited or deleted once issued, so a cached entry cannot go stale.
final class CredentialCache: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [String: (principal: Principal, expires: Double)] = [:]
    private let capacity: Int
    /// Seconds an entry is believed: a key revoked through another coordinator stops working here
    /// within this time (at once through this one, which forgets everything it cached).
    let lifetime: Double

    init(capacity: Int = 100_000, lifetime: Double = 30) {
        self.capacity = capacity
        self.lifetime = lifetime
    }

    subscript(hash: String) -> Principal? {
        get {
            lock.withLock {
                guard let entry = entries[hash], entry.expires > Date().timeIntervalSince1970 else { return nil }
                return entry.principal
            }
        }
        set {
            lock.withLock {
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
                entries[hash] = newValue.map { ($0, Date().timeIntervalSince1970 + lifetime) }
            }
        }
    }

    /// Forgets every cached key (after a revocation).
    func removeAll() { lock.withLock { entries.removeAll(keepingCapacity: true) } }
}
