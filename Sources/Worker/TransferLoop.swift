import Foundation
import Logging
import XunxingClient
import XunxingProtocol

/// The daemon's transfer thread: uploads finished results, acknowledges and downloads assigned
/// work, and asks for more when the buffer runs low. Every coordinator call that fails because the
/// coordinator is unreachable (or answers 5xx) puts the whole loop into ``Backoff``; results stay
/// on disk until they are accepted.
final class TransferLoop: @unchecked Sendable {
    let store: TaskStore
    let api: CoordinatorClient
    let downloads: CoordinatorClient
    let settings: RunSettings
    let stop: StopFlag
    let shared: Locked<DaemonState>
    let logger: Logger
    /// Checksum failures of one task after which it is given up.
    static let maxChecksumFailures = 3

    init(store: TaskStore, api: CoordinatorClient, downloads: CoordinatorClient, settings: RunSettings, stop: StopFlag,
         shared: Locked<DaemonState>, logger: Logger) {
        self.store = store
        self.api = api
        self.downloads = downloads
        self.settings = settings
        self.stop = stop
        self.shared = shared
        self.logger = logger
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
                logger.warning("\(failure.message); retrying in \(String(format: "%.1f", delay)) s (failure \(failures))")
                continue
            } catch {
                logger.error("transfer round failed: \(error)")
            }
            if !busy { stop.wait(seconds: settings.configuration.loopIntervalSeconds) }
        }
    }

    /// One round; returns true when something was done (so the next round starts at once).
    func round(nextRequest: inout Date) throws -> Bool {
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
        if want > 0, room > 0, Date() >= nextRequest, !stop.isSet {
            // The coordinator sizes work as seconds x cores x speed; under a CPU limit a core
            // gives only that share of the buffer's seconds.
            let cpuSeconds = want * settings.configuration.cpuLimitPercent / 100
            let response = try classify("asking for work") {
                try api.requestWork(WorkRequest(
                    cores: settings.cores, memoryMB: settings.memoryMB, speed: settings.speed, seconds: cpuSeconds,
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
                        try CoordinatorURLPolicy.check(
                            assignment, coordinator: api.baseURL, maxPayloadBytes: settings.configuration.maxPayloadBytes,
                            held: held, maxTasks: settings.configuration.maxTasks)
                        held += 1
                        try store.save(TaskRecord(assignment: assignment))
                        logger.info("assigned replica \(assignment.replicaID) of unit \(assignment.workUnitID) (\(assignment.estimatedCost) reference s)")
                    } catch {
                        logger.error("refusing an assignment: \(error)")
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
                logger.warning("replica \(replica) was withdrawn by the coordinator (\(error)); dropping it")
                store.removeTask(replica)
                return
            }
        }
        if task.payloadVerified { return }
        let path = store.payloadPath(replica)
        shared.with { $0.activity = "downloading \(replica)" }
        do {
            try classify("downloading the payload of \(replica)") { try downloads.downloadPayload(task.assignment, to: path) }
        } catch let error as CoordinatorClientError {
            logger.warning("payload of replica \(replica) refused by the coordinator (\(error)); dropping the task")
            store.removeTask(replica)
            return
        }
        if stop.isSet { return }
        do {
            try PayloadChecksum.verify(path: path, expected: task.assignment.payloadSHA256)
            task.payloadVerified = true
            try store.save(task)
            logger.info("payload of replica \(replica) downloaded and verified")
        } catch let error as WorkerError {
            // Never resume a corrupt file: delete it so the next download starts from byte 0.
            unlink(path)
            task.checksumFailures += 1
            if task.checksumFailures >= Self.maxChecksumFailures {
                logger.error("\(error.description); \(task.checksumFailures) bad downloads of replica \(replica): giving it up")
                store.removeTask(replica)
            } else {
                logger.warning("\(error.description) (replica \(replica)); deleted, downloading it again")
                try store.save(task)
            }
        }
    }

    /// Uploads every pending result; returns true when at least one was accepted or refused.
    func uploadResults() throws -> Bool {
        var any = false
        for var pending in try store.pendingResults() {
            if stop.isSet { break }
            do {
                let response = try classify("uploading the result of \(pending.replicaID)") {
                    try api.report(replica: pending.replicaID, result: pending.result)
                }
                store.removeResult(pending.replicaID)
                logger.info("uploaded the result of replica \(pending.replicaID): \(response.outcome)")
            } catch let error as CoordinatorClientError {
                logger.error("the coordinator refused the result of replica \(pending.replicaID) (\(error)); discarding it")
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
    /// and retry); other 4xx answers are rethrown as they are (the item is refused).
    func classify<T>(_ what: String, _ call: () throws -> T) throws -> T {
        do {
            return try call()
        } catch let error as CoordinatorClientError {
            switch error {
            case .api(let status, _, _) where status >= 500 || status == 408 || status == 429 || status == 401:
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
