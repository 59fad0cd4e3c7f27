import Foundation
import XunxingSupport

/// Builds a ``WorkerStatus`` from the state directory and, while the daemon runs, its live state.
public struct StatusBuilder: Sendable {
    public let store: TaskStore
    public let settings: RunSettings

    public init(store: TaskStore, settings: RunSettings) {
        self.store = store
        self.settings = settings
    }

    /// The snapshot. `shared` is the daemon's live state (nil when built by `status` with no
    /// daemon running: progress then comes from the checkpoints alone).
    public func build(host: HostIdentity, tasks: [TaskRecord], pending: [PendingUploadStatus], shared: DaemonState?,
                      running: Bool, now: Date = Date()) -> WorkerStatus {
        let c = settings.configuration
        let paused = shared?.pauseReason
        let taskStatuses = tasks.map { task -> TaskStatus in
            let checkpoint = try? store.checkpoint(task.replicaID)
            let live = shared?.live[task.replicaID]
            let state: String
            if !task.acknowledged { state = "acknowledging" }
            else if !task.payloadVerified { state = "downloading" }
            else if let live { state = paused != nil ? "paused" : live.planning ? "planning FFTs" : "running" }
            else { state = "ready" }
            let done = live?.trialsDone ?? checkpoint?.nextTrial ?? 0
            let count = live?.trialCount ?? checkpoint?.trialCount
            let progress = count.map { $0 > 0 ? min(1, max(0, Double(done) / Double($0))) : 0 } ?? 0
            return TaskStatus(
                replicaID: task.replicaID, workUnitID: task.assignment.workUnitID, state: state, progress: progress,
                secondsLeft: secondsLeft(task: task, progress: progress, live: live),
                trialsDone: done, trialCount: count, estimatedCost: task.assignment.estimatedCost,
                deadline: task.assignment.deadline)
        }
        let backoff = shared?.backoff.status ?? Backoff(base: c.backoffBaseSeconds, cap: c.backoffCapSeconds).status
        var status = WorkerStatus(
            running: running, updatedAt: now, coordinator: host.coordinatorURL, hostID: host.hostID,
            pausedReason: paused.map(\.description), cores: settings.cores, cpuLimitPercent: c.cpuLimitPercent,
            speed: settings.speed, tasks: taskStatuses, pendingUploads: pending, backoff: backoff, hours: shared?.hours)
        status.hoursUpdatedAt = shared?.hoursUpdatedAt
        status.lastError = shared?.lastError
        status.memoryLimitMB = c.effectiveMemoryLimitMB()
        status.now = running ? activity(tasks: taskStatuses, shared: shared) : []
        return status
    }

    /// One line per thing the worker is doing now.
    func activity(tasks: [TaskStatus], shared: DaemonState?) -> [String] {
        var lines: [String] = []
        for task in tasks {
            switch task.state {
            case "planning FFTs": lines.append("planning FFTs for replica \(task.replicaID)")
            case "running", "paused":
                let trial = task.trialCount.map { "trial \(task.trialsDone + 1) of \($0)" } ?? "starting"
                lines.append("\(task.state == "paused" ? "paused" : "searching") replica \(task.replicaID) (unit \(task.workUnitID)): \(trial)")
            default: break
            }
        }
        if let size = shared?.improvingPlan { lines.append("measuring the FFTW plan for \(size) points on a spare core") }
        if let activity = shared?.activity { lines.append(activity) }
        return lines
    }

    /// Time left: from the observed trial rate once a search runs, otherwise from the unit's
    /// estimated cost, this host's speed and the CPU limit.
    public func secondsLeft(task: TaskRecord, progress: Double, live: LiveProgress?) -> Double {
        if let live, let perTrial = live.secondsPerTrial, live.trialsDone > live.startedAtTrial {
            return max(0, Double(live.trialCount - live.trialsDone) * perTrial)
        }
        let cpuSeconds = task.assignment.estimatedCost * (1 - progress) / settings.speed
        return DutyCycle(limitPercent: settings.configuration.cpuLimitPercent).wallSeconds(forCPUSeconds: cpuSeconds)
    }
}
