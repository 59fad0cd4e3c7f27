import Foundation
import Logging
import XunxingClient
import XunxingProtocol

/// Detaching a machine from its coordinator, as BOINC's "remove project" does: finished results
/// are uploaded (the work was done and earns its hours), every unit still held is given back so
/// the coordinator sends it to another host at once, and the host's identity and work are deleted.
/// The settings (`config.json`) and this machine's FFTW plans stay for the next attach.
public enum Detach {
    /// What a detach did.
    public struct Summary: Sendable, Equatable {
        public var resultsUploaded = 0
        public var resultsRefused = 0
        public var unitsGivenBack = 0
        /// Calls that could not reach the coordinator (their units go to others at their deadlines).
        public var unreachable: [String] = []
    }

    /// Detaches; takes the state directory's lock, so the daemon must be stopped first. With
    /// `force` the machine is detached even when the coordinator could not be told everything.
    public static func detach(state: StateDirectory, force: Bool, logger: Logger) throws -> Summary {
        let lock = try WorkerLock(path: state.lockFile)
        defer { withExtendedLifetime(lock) {} }
        let host = try state.loadHost()
        let configuration = try state.loadConfiguration()
        let api = XunxingClientFactory.client(host: host, http: WorkerDaemon.httpConfiguration(configuration))
        let store = TaskStore(state: state)
        var summary = Summary()
        for pending in try store.pendingResults() {
            do {
                _ = try api.report(replica: pending.replicaID, result: pending.result)
                summary.resultsUploaded += 1
                store.removeResult(pending.replicaID)
            } catch CoordinatorClientError.api(let status, _, _) where (400..<500).contains(status) && status != 401 && status != 408 && status != 429 {
                summary.resultsRefused += 1
                store.removeResult(pending.replicaID)
            } catch {
                summary.unreachable.append("uploading the result of \(pending.replicaID): \(error)")
            }
        }
        let abandoner = TaskAbandoner(api: api, store: store, shared: nil, log: LogFolder(logger: logger))
        for task in try store.tasks() {
            // A unit the coordinator was told about is gone either way: a retried detach (or a
            // restarted daemon) must not find it again.
            if abandoner.giveUp(task.replicaID, kind: .detached, reason: "the volunteer detached this machine", deleteTask: false) {
                summary.unitsGivenBack += 1
                store.removeTask(task.replicaID)
            } else {
                summary.unreachable.append("giving back replica \(task.replicaID)")
            }
        }
        guard summary.unreachable.isEmpty || force else {
            throw WorkerError.io(
                path: state.path, operation: "detach",
                reason: "the coordinator at \(host.coordinatorURL) could not be told everything (\(summary.unreachable.joined(separator: "; "))); nothing was deleted: run detach again when it is reachable, or add --force (its units then go to other hosts at their deadlines)")
        }
        for path in [state.hostFile, state.statusFile, state.tasksDirectory, state.resultsDirectory] {
            try? FileManager.default.removeItem(atPath: path)
        }
        return summary
    }
}
