import Foundation
import Logging
import ServiceLifecycle

/// The coordinator's daemons: deadlines (transitioner), splitting, assimilation, profile sync and
/// the stats exports. Each runs in a loop of its own, under its own lease and time limit, so a
/// platform that hangs holds up profile sync only, never a dataset waiting to be split.
/// The domain's periodic jobs (deadlines, splitter, assimilator, profile sync, exports), each
/// under a lease so that of several coordinators on one database only one runs it at a time.
public struct BackgroundJobs: Service {
    let coordinator: CoordinatorCore

    public init(core: CoordinatorCore) { coordinator = core }

    /// One job: its lease's name and length, the longest one pass may take (nil: no limit; a
    /// pass past it is cancelled and logged), and the pass itself.
    struct Job: Sendable {
        let name: String
        let ttl: Double
        let timeout: Double?
        let pass: @Sendable () async throws -> Void
    }

    /// Short leases, renewed every third of their length while a pass runs: a crashed
    /// coordinator's jobs move to another within seconds.
    var jobs: [Job] {
        let c = coordinator
        return [
            Job(name: "deadlines", ttl: 10, timeout: 300) { try await c.replication.expireOverdueReplicas() },
            Job(name: "splitter", ttl: 15, timeout: nil) { try await c.splitter.splitPendingDatasets() },
            Job(name: "assimilator", ttl: 15, timeout: nil) { try await c.assimilator.assimilateFinishedDatasets() },
            Job(name: "profile-sync", ttl: 15, timeout: c.configuration.syncPassTimeout) { try await c.profileSync.syncProfiles() },
            Job(name: "stats-export", ttl: 15, timeout: 600) { _ = try await c.exports.writeExports() },
        ]
    }

    /// Runs every job's loop until the service is cancelled or shut down; a shutdown cancels the
    /// passes in flight (a pass waiting on a slow platform must not hold up `systemctl stop`).
    public func run() async throws {
        let jobs = self.jobs
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                for job in jobs { group.addTask { await self.loop(job) } }
            }
        }
    }

    private func loop(_ job: Job) async {
        let interval = coordinator.configuration.jobInterval
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            await runOnce(job)
            try? await Task.sleep(for: .milliseconds(Int(interval * 1000)))
        }
    }

    /// One pass of `job` under its lease (with several coordinators on one database exactly one
    /// runs it at a time, and a crashed coordinator's lease simply expires); errors are logged,
    /// never fatal.
    func runOnce(_ job: Job) async {
        do {
            try await coordinator.withLease(job.name, ttl: job.ttl) {
                guard let timeout = job.timeout else { return try await job.pass() }
                try await withThrowingTaskGroup(of: Bool.self) { group in
                    group.addTask {
                        try await job.pass()
                        return true
                    }
                    group.addTask {
                        try await Task.sleep(for: .milliseconds(Int(timeout * 1000)))
                        return false
                    }
                    let finished = try await group.next() ?? false
                    group.cancelAll()
                    if !finished { throw JobTimeout(job: job.name, seconds: timeout) }
                }
            }
        } catch is CancellationError where Task.isCancelled {
            coordinator.logger.debug("\(job.name) job stopped by the shutdown")
        } catch {
            coordinator.logger.error("\(job.name) job failed: \(error)")
        }
    }
}

/// A background job's pass took longer than its limit and was cancelled.
struct JobTimeout: Error, CustomStringConvertible {
    let job: String
    let seconds: Double
    var description: String { "\(job): a pass took over \(Int(seconds)) s and was cancelled" }
}
