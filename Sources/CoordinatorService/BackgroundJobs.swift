import Foundation
import Logging
import ServiceLifecycle

/// The coordinator's daemons in one loop: deadlines (transitioner), splitting, assimilation.
struct BackgroundJobs: Service {
    let coordinator: Coordinator

    func run() async throws {
        let interval = coordinator.configuration.jobInterval
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            await runOnce()
            try? await Task.sleep(for: .milliseconds(Int(interval * 1000)))
        }
    }

    /// One pass of every job; errors are logged, never fatal. Each job runs under a lease kept
    /// in the database, so with several coordinators on one database exactly one runs it at a
    /// time, and a crashed coordinator's lease simply expires.
    func runOnce() async {
        let c = coordinator
        let jobs: [(String, Double, @Sendable () async throws -> Void)] = [
            // Short leases, renewed every third of their length while a job runs: a crashed
            // coordinator's jobs move to another within seconds.
            ("deadlines", 10, { try await c.expireOverdueReplicas() }),
            ("splitter", 15, { try await c.splitPendingDatasets() }),
            ("assimilator", 15, { try await c.assimilateFinishedDatasets() }),
            ("profile-sync", 15, { try await c.syncProfiles() }),
            ("stats-export", 15, { _ = try await c.writeDailyExports() }),
        ]
        for (name, ttl, job) in jobs {
            do {
                try await coordinator.withLease(name, ttl: ttl, job)
            } catch {
                coordinator.logger.error("\(name) job failed: \(error)")
            }
        }
    }
}
