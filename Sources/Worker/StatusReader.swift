import Foundation

/// Reads the status for `xunxing-worker status`: the daemon's `status.json` while it runs,
/// otherwise a snapshot built from the state directory (with the hours asked of the coordinator).
public enum StatusReader {
    public static func read(state: StateDirectory, probeHours: Bool = true) throws -> WorkerStatus {
        let host = try state.loadHost()
        if WorkerLock.isHeld(path: state.lockFile), let live = try AtomicFile.readJSON(WorkerStatus.self, from: state.statusFile) {
            return live
        }
        let configuration = try state.loadConfiguration()
        let store = TaskStore(state: state)
        var status = StatusBuilder(store: store, settings: RunSettings(configuration: configuration)).build(
            host: host, tasks: try store.tasks(), pending: try store.pendingUploads(), shared: nil, running: false)
        if let last = try? AtomicFile.readJSON(WorkerStatus.self, from: state.statusFile) {
            status.backoff = last.backoff
            status.hours = last.hours
            status.hoursUpdatedAt = last.hoursUpdatedAt
            status.lastError = last.lastError
        }
        if probeHours {
            var http = WorkerDaemon.httpConfiguration(configuration)
            http.timeout = 5
            http.connectTimeout = 3
            let client = XunxingClientFactory.client(host: host, http: http)
            if let hours = HoursProbe.fetch(client: client) {
                status.hours = hours
                status.hoursUpdatedAt = Date()
            }
        }
        return status
    }
}
