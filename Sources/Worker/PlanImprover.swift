import Foundation
import PulsarSearch

/// Improves a deferred `FFTPlanner`'s quick plans in the worker's spare time: one size at a time,
/// on its own thread, bounded in time, only when a core is free and the guest policies allow work.
/// A fresh host thus starts its first unit at once on `estimate` plans, and its later units run on
/// measured plans (kept as wisdom) without the volunteer paying a minute of uncredited planning.
final class PlanImprover: @unchecked Sendable {
    private let planner: FFTPlanner
    private let timeLimit: Double
    private let lock = NSLock()
    private var working = false

    init(planner: FFTPlanner, timeLimit: Double = 5) {
        self.planner = planner
        self.timeLimit = timeLimit
    }

    /// Whether an improvement is running (it occupies one core).
    var busy: Bool {
        lock.lock()
        defer { lock.unlock() }
        return working
    }

    /// Whether there is something to improve and nothing improving it now.
    var canStart: Bool { !busy && !planner.sizesToImprove.isEmpty }

    /// Starts improving the oldest quick plan: `began` gets the size, `report` the size and the
    /// seconds taken when done.
    func start(began: @escaping @Sendable (Int) -> Void = { _ in }, report: @escaping @Sendable (Int, Double) -> Void) {
        lock.lock()
        guard !working else { lock.unlock(); return }
        working = true
        lock.unlock()
        let thread = Thread { [self] in
            let started = Date()
            if let next = planner.sizesToImprove.first { began(next) }
            if let size = planner.improveNextPlan(timeLimit: timeLimit) {
                report(size, Date().timeIntervalSince(started))
            }
            lock.lock()
            working = false
            lock.unlock()
        }
        thread.name = "fftw-plan-improver"
        thread.start()
    }
}
