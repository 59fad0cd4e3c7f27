import CoordinatorCore
import Foundation

/// Public pages rendered at most once per path and `lifetime`: a flood of page views costs one
/// render (a few reads) per path and interval, and concurrent views of a page being rendered wait
/// for that one render instead of starting their own. A failed render (a missing dataset, say)
/// is not kept. Pages change at most `lifetime` seconds late; publishing or unpublishing a dataset
/// empties the cache at once on the coordinator that did it.
final class PageCache: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [String: (render: Task<String, any Error>, expires: Double)] = [:]
    let lifetime: Double
    private let capacity: Int
    private let clock: @Sendable () -> Double

    init(lifetime: Double, capacity: Int = 10_000, clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.lifetime = lifetime
        self.capacity = capacity
        self.clock = clock
    }

    /// The page at `key`, from the cache or from `render` (counted by `rendered`).
    func page(_ key: String, render: @escaping @Sendable () async throws -> String) async throws -> String {
        guard lifetime > 0 else { return try await render() }
        let now = clock()
        let task = lock.withLock { () -> Task<String, any Error> in
            if let entry = entries[key], entry.expires > now { return entry.render }
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            let task = Task { try await render() }
            entries[key] = (task, now + lifetime)
            return task
        }
        do {
            return try await task.value
        } catch {
            lock.withLock {
                if let entry = entries[key], entry.render == task { entries[key] = nil }
            }
            throw error
        }
    }

    /// Forgets every page (after a change that must show at once, such as unpublishing).
    func removeAll() { lock.withLock { entries.removeAll(keepingCapacity: true) } }
}
