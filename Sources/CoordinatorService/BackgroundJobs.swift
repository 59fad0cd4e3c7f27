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

    /// One pass of every job; errors are logged, never fatal.
    func runOnce() async {
        for (name, job) in [
            ("deadlines", coordinator.expireOverdueReplicas),
            ("splitter", coordinator.splitPendingDatasets),
            ("assimilator", coordinator.assimilateFinishedDatasets),
            ("profile sync", coordinator.syncProfiles),
            ("stats export", { _ = try await coordinator.writeDailyExports() }),
        ] as [(String, @Sendable () async throws -> Void)] {
            do {
                try await job()
            } catch {
                coordinator.logger.error("\(name) job failed: \(error)")
            }
        }
    }
}
