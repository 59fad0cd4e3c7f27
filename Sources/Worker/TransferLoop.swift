import Foundation
import Logging
import WorkUnits
import XunxingClient
import XunxingProtocol
import XunxingSupport

/// The daemon's transfer thread: uploads finished results, acknowledges and downloads assigned
/// work, and asks for more when the buffer runs low. Every coordinator call that fails because the
/// coordinator is unreachable (or answers 5xx) puts the whole loop into ``Backoff``; results stay
/// on disk until they are accepted.
final class TransferLoop: @unchecked Sendable {
    let store: TaskStore
    let api: CoordinatorClient
    let downloads: CoordinatorClient
    let abandoner: TaskAbandoner
    let stop: StopFlag
    let shared: Locked<DaemonState>
    let log: LogFolder
    /// Checksum failures of one task after which it is given up.
    static let maxChecksumFailures = 3
    /// Seconds without asking for work after a payload did not fit on the disk.
    static let diskFullPause = 600.0

    init(store: TaskStore, api: CoordinatorClient, downloads: CoordinatorClient, abandoner: TaskAbandoner, stop: StopFlag,
         shared: Locked<DaemonState>, log: LogFolder) {
        self.store = store
        self.api = api
        self.downloads = downloads
        self.abandoner = abandoner
        self.stop = stop
        self.shared = shared
        self.log = log
    }

    /// The settings in force now (`config.json` may change while the daemon runs).
    var settings: RunSettings { shared.with { $0.settings } }
    var logger: Logger { log.logger }

    /// Logs a problem and keeps it as the status's last error.
    func report(_ level: Logger.Level, _ message: String) {
        log.log(level, message)
        shared.with { $0.lastError = WorkerProblem(message) }
    }

    /// A failure that concerns the coordinator as a whole (back off) rather than one item.
    struct Transient: Error { let message: String }

    func start() {
        startThread(name: "transfers") { [self] in loop() }
    }

    func loop() {
        var nextRequest = Date.distantPast
        while !stop.isSet {
            let waitFor = shared.with { s -> Double in
                guard let next = s.backoff.nextAttempt else { return 0 }
                return next.timeIntervalSinceNow
            }
            if waitFor > 0 {
                stop.wait(seconds: min(waitFor, settings.configuration.loopIntervalSeconds))
                continue
            }
            var busy = false
            do {
                busy = try round(nextRequest: &nextRequest)
                shared.with {
                    if $0.backoff.failures > 0 { logger.notice("coordinator reachable again") }
                    $0.backoff.recordSuccess()
                    $0.activity = nil
                }
            } catch let failure as Transient {
                let delay = shared.with { s -> Double in
                    s.activity = nil
                    return s.backoff.recordFailure(failure.message)
                }
                let failures = shared.with { $0.backoff.failures }
                log.log(.warning, "\(failure.message); retrying in \(String(format: "%.1f", delay)) s (failure \(failures))",
                        key: failure.message)
                continue
            } catch {
                report(.error, "transfer round failed: \(error)")
            }
            if !busy { stop.wait(seconds: settings.configuration.loopIntervalSeconds) }
        }
    }

    /// One round; returns true when something was done (so the next round starts at once).
    func round(nextRequest: inout Date) throws -> Bool {
        let settings = self.settings
        // Units the supervisor gave up: tell the coordinator, which reissues them at once.
        for (replica, request) in shared.with({ $0.toAbandon }) {
            abandoner.giveUp(replica, kind: request.kind ?? .other, reason: request.reason)
            shared.with { _ = $0.toAbandon.removeValue(forKey: replica) }
        }
        var busy = try uploadResults()
        var tasks = try store.tasks()
        for task in tasks where !task.acknowledged || !task.payloadVerified {
            if stop.isSet { return busy }
            try prepare(task)
            busy = true
        }
        tasks = try store.tasks()
        let want = wantedSeconds(tasks: tasks)
        let room = settings.configuration.maxTasks - tasks.count
        // After a payload did not fit on the disk, ask for nothing for a while: every unit sent
        // meanwhile would only be given back.
        let diskFull = shared.with { $0.diskFullUntil.map { $0 > Date() } ?? false }
        if want > 0, room > 0, Date() >= nextRequest, !diskFull, !stop.isSet {
            // The coordinator sizes work as seconds x cores x speed; under a CPU limit a core
            // gives only that share of the buffer's seconds.
            let cpuSeconds = want * settings.configuration.cpuLimitPercent / 100
            let response = try classify("asking for work") {
                try api.requestWork(WorkRequest(
                    cores: settings.cores, memoryMB: settings.configuration.effectiveMemoryLimitMB(), speed: settings.speed, seconds: cpuSeconds,
                    maxUnits: min(room, 4096)))
            }
            shared.with { $0.projectIdle = response.assignments.isEmpty && response.projectIdle }
            if response.assignments.isEmpty {
                nextRequest = Date().addingTimeInterval(max(response.retryAfterSeconds, settings.configuration.loopIntervalSeconds))
            } else {
                nextRequest = .distantPast
                busy = true
                var held = tasks.count
                for assignment in response.assignments {
                    do {
                        try TaskStore.checkReplicaID(assignment.replicaID)
                    } catch {
                        // Not an id this worker can store or name in a request: nothing to give back.
                        report(.error, "refusing an assignment: \(error)")
                        continue
                    }
                    do {
                        try CoordinatorURLPolicy.check(
                            assignment, coordinator: api.baseURL, maxPayloadBytes: settings.configuration.maxPayloadBytes,
                            held: held, maxTasks: settings.configuration.maxTasks,
                            memoryLimitMB: settings.configuration.effectiveMemoryLimitMB())
                        held += 1
                        try store.save(TaskRecord(assignment: assignment))
                        logger.info("assigned replica \(assignment.replicaID) of unit \(assignment.workUnitID) (\(assignment.estimatedCost) reference s)")
                    } catch {
                        // Refused: say so to the coordinator, which gives the unit to another host now.
                        abandoner.giveUp(assignment.replicaID, kind: .refused, reason: "refused: \(error)", deleteTask: false)
                    }
                }
            }
        }
        return busy
    }

    /// Seconds of work (on this host's cores) to ask for: the buffer minus the work held.
    func wantedSeconds(tasks: [TaskRecord]) -> Double {
        let held = tasks.reduce(0.0) { sum, task in
            let progress = (try? store.checkpoint(task.replicaID))?.progress ?? 0
            return sum + task.assignment.estimatedCost * (1 - progress)
        }
        let heldSeconds = held / (settings.speed * Double(settings.cores)) / (settings.configuration.cpuLimitPercent / 100)
        if tasks.count < settings.cores { return max(settings.configuration.bufferSeconds - heldSeconds, 1e-6) }
        return settings.configuration.bufferSeconds - heldSeconds
    }

    /// Acknowledges a task and downloads and verifies its payload.
    func prepare(_ task: TaskRecord) throws {
        var task = task
        let replica = task.replicaID
        if !task.acknowledged {
            do {
                try classify("acknowledging replica \(replica)") { try api.acknowledge(replica: replica) }
                task.acknowledged = true
                try store.save(task)
            } catch let error as CoordinatorClientError {
                report(.warning, "replica \(replica) was withdrawn by the coordinator (\(error)); dropped it")
                store.removeTask(replica)
                return
            }
        }
        if task.payloadVerified { return }
        let path = store.payloadPath(replica)
        // Never fill the disk: leave disk_reserve_mb free, and give the unit back if it does not fit.
        let reserve = Int64(settings.configuration.diskReserveMB) << 20
        let have = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? 0
        if let free = store.state.freeDiskBytes(), free - (task.assignment.payloadSize - have) < reserve {
            shared.with { $0.diskFullUntil = Date().addingTimeInterval(Self.diskFullPause) }
            abandoner.giveUp(replica, kind: .diskFull, reason: "disk full: the payload needs \(WorkUnitMemory.megabytes(roundingUp: task.assignment.payloadSize - have)) MB, \(WorkUnitMemory.megabytes(roundingUp: free)) MB are free and disk_reserve_mb keeps \(settings.configuration.diskReserveMB) MB free; free some space or lower disk_reserve_mb")
            return
        }
        shared.with { $0.activity = "downloading the payload of replica \(replica)" }
        do {
            try classify("downloading the payload of \(replica)") { try downloads.downloadPayload(task.assignment, to: path) }
        } catch let error as CoordinatorClientError {
            report(.warning, "payload of replica \(replica) refused by the coordinator (\(error)); dropped the task")
            store.removeTask(replica)
            return
        }
        if stop.isSet { return }
        do {
            try PayloadChecksum.verify(path: path, expected: task.assignment.payloadSHA256)
            task.payloadVerified = true
            if task.assignment.memoryMB == nil, let header = try? WorkUnitPayload.readHeader(path: path) {
                task.payloadMemoryMB = WorkUnitMemory.megabytes(header: header)
            }
            try store.save(task)
            logger.info("payload of replica \(replica) downloaded and verified")
        } catch let error as WorkerError {
            // Never resume a corrupt file: delete it so the next download starts from byte 0.
            unlink(path)
            task.checksumFailures += 1
            if task.checksumFailures >= Self.maxChecksumFailures {
                abandoner.giveUp(replica, kind: .badPayload, reason: "\(task.checksumFailures) downloads failed their checksum: \(error.description)")
            } else {
                report(.warning, "\(error.description) (replica \(replica)); deleted, downloading it again")
                try store.save(task)
            }
        }
    }

    /// Uploads every pending result; returns true when at least one was accepted or refused.
    func uploadResults() throws -> Bool {
        var any = false
        for var pending in try store.pendingResults() {
            if stop.isSet { break }
            shared.with { $0.activity = "uploading the result of replica \(pending.replicaID)" }
            do {
                let response = try classify("uploading the result of \(pending.replicaID)") {
                    try api.report(replica: pending.replicaID, result: pending.result)
                }
                store.removeResult(pending.replicaID)
                logger.info("uploaded the result of replica \(pending.replicaID): \(response.outcome)")
            } catch let error as CoordinatorClientError {
                report(.error, "the coordinator refused the result of replica \(pending.replicaID) (\(error)); discarded it")
                store.removeResult(pending.replicaID)
            } catch let failure as Transient {
                pending.attempts += 1
                try? store.savePending(pending)
                throw failure
            }
            any = true
        }
        return any
    }

    /// Runs a coordinator call: unreachable, 5xx, 408, 429 and 401 become ``Transient`` (back off
    /// and retry; a 401 with how to attach again); other 4xx answers are rethrown as they are (the
    /// item is refused).
    func classify<T>(_ what: String, _ call: () throws -> T) throws -> T {
        do {
            return try call()
        } catch let error as CoordinatorClientError {
            switch error {
            case .api(401, _, _):
                let message = "\(what): the coordinator does not accept this host's key (it was revoked or replaced); attach this machine again: xunxing-worker attach --coordinator \(api.baseURL) --account-key KEY --state-dir \(store.state.path)"
                shared.with { $0.lastError = WorkerProblem(message) }
                throw Transient(message: message)
            case .api(let status, _, _) where status >= 500 || status == 408 || status == 429:
                throw Transient(message: "\(what): \(error)")
            case .api:
                throw error
            case .unreachable, .protocolError:
                throw Transient(message: "\(what): \(error)")
            case .refused:
                throw error
            }
        }
    }
}
