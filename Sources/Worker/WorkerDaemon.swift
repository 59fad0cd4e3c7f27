import Foundation
import Logging
import PulsarSearch
import XunxingClient
import XunxingHTTPClient
import XunxingProtocol
import XunxingSupport

/// Settings of one run of the daemon: the saved configuration with the command line's overrides.
public struct RunSettings: Sendable {
    public var configuration: WorkerConfiguration
    /// Stop when nothing is held and the coordinator has no unfinished work at all.
    public var exitWhenIdle = false
    /// The software string reported with results.
    public var software = "xunxing-worker \(WorkerVersion.string)"
    /// The command line's settings, which keep overriding `config.json` when it is reread.
    public var overrides = ConfigurationOverrides()

    public init(configuration: WorkerConfiguration, overrides: ConfigurationOverrides = ConfigurationOverrides()) {
        self.configuration = overrides.applied(to: configuration)
        self.overrides = overrides
    }

    public var cores: Int { configuration.effectiveCores() }
    public var speed: Double { configuration.speed ?? 1 }
}

/// The worker's version.
public enum WorkerVersion {
    public static let string = "0.1.0"
}

/// How a run ended.
public struct RunSummary: Sendable, Equatable {
    /// Units finished in this run.
    public var finished: Int
    /// Whether it stopped on a signal (rather than `exitWhenIdle`).
    public var signalled: Bool
}

/// The daemon: one supervisor (the calling thread) that applies the host policies, starts a search
/// thread per core for tasks whose payload is verified, rereads `config.json` when it changes (or
/// on SIGHUP), writes `status.json` every loop interval and stops cleanly on SIGTERM; and one
/// transfer thread (``TransferLoop``).
public final class WorkerDaemon: @unchecked Sendable {
    public let state: StateDirectory
    public let settings: RunSettings
    let logger: Logger
    let stop: StopFlag
    let reload: Locked<Bool>
    let shared: Locked<DaemonState>
    let store: TaskStore
    let host: HostIdentity
    let log: LogFolder

    /// Prepares a run: takes nothing yet (``run()`` takes the lock). Setting `reload` asks for
    /// `config.json` to be reread (SIGHUP).
    public init(state: StateDirectory, settings: RunSettings, logger: Logger, stop: StopFlag = StopFlag(),
                reload: Locked<Bool> = Locked(false)) throws {
        try settings.configuration.validate()
        self.state = state
        self.settings = settings
        self.logger = logger
        self.stop = stop
        self.reload = reload
        self.store = TaskStore(state: state)
        self.host = try state.loadHost()
        try CoordinatorURLPolicy.check(host.coordinatorURL)
        self.shared = Locked(DaemonState(settings: settings))
        self.log = LogFolder(logger: logger)
    }

    /// The HTTP settings of the configuration; `forDownloads` drops the whole-transfer timeout
    /// (stalls are still caught by the low-speed limit).
    public static func httpConfiguration(_ c: WorkerConfiguration, forDownloads: Bool = false) -> HTTPClientConfiguration {
        var http = HTTPClientConfiguration()
        http.proxy = c.proxy
        http.verifyTLS = c.verifyTLS
        http.caBundlePath = c.caBundlePath
        http.connectTimeout = 10
        http.timeout = forDownloads ? 0 : 60
        http.lowSpeedTime = 60
        http.userAgent = "xunxing-worker/\(WorkerVersion.string)"
        // Every request carries the host's key: never let a redirect take it elsewhere.
        http.followRedirects = false
        return http
    }

    /// Runs until a signal, or until idle with `exitWhenIdle`. Blocks the calling thread.
    public func run() throws -> RunSummary {
        try state.prepare()
        let lock = try WorkerLock(path: state.lockFile)
        defer { withExtendedLifetime(lock) {} }
        store.sweep()
        restorePreviousStatus()
        let c = settings.configuration
        lowerPriorityOfAllThreads(niceness: c.niceness)
        // Quick plans first, measured ones in spare time (PlanImprover).
        let planner = FFTPlanner(rigor: c.fftRigor, wisdomPath: state.wisdomFile, deferred: true)
        let improver = PlanImprover(planner: planner)
        let api = CoordinatorClient(baseURL: host.coordinatorURL, secret: host.hostKey,
                                    http: HTTPClient(configuration: Self.httpConfiguration(c)))
        let downloads = CoordinatorClient(baseURL: host.coordinatorURL, secret: host.hostKey,
                                          http: HTTPClient(configuration: Self.httpConfiguration(c, forDownloads: true)))
        logger.info("xunxing-worker \(WorkerVersion.string): host \(host.hostID) at \(host.coordinatorURL), \(settings.cores) cores, speed \(String(format: "%.2f", settings.speed)), CPU limit \(c.cpuLimitPercent)%, memory limit \(c.effectiveMemoryLimitMB()) MB")

        let abandoner = TaskAbandoner(api: api, store: store, shared: shared, log: log)
        TransferLoop(store: store, api: api, downloads: downloads, abandoner: abandoner, stop: stop, shared: shared, log: log).start()
        HoursProbe.startPolling(client: api, shared: shared, stop: stop)

        var policy = GuestPolicy(configuration: c)
        var watcher = ConfigurationWatcher(path: state.configFile)
        var runners: [String: SearchRunner] = [:]
        var failures: [String: Int] = [:]
        var finished = 0
        var idleExit = false
        while !stop.isSet {
            if watcher.changed(force: reload.with { r in defer { r = false }; return r }), let changed = reloadConfiguration() {
                policy.reconfigure(changed)
            }
            let settings = shared.with { $0.settings }
            lowerPriorityOfAllThreads(niceness: settings.configuration.niceness)
            // Reap finished searches.
            for (replica, runner) in runners where runner.outcome != .running {
                if runner.outcome == .finished { finished += 1 }
                if case let .failed(reason) = runner.outcome {
                    failures[replica, default: 0] += 1
                    report("replica \(replica): search failed (\(failures[replica]!) of 3 tries): \(reason)")
                    if failures[replica]! >= 3 { giveUp(replica, kind: .failed, reason: "the search failed 3 times: \(reason)") }
                }
                runners.removeValue(forKey: replica)
            }
            let reason = policy.evaluate()
            let previous = shared.with { s -> PauseReason? in
                defer { s.pauseReason = reason }
                return s.pauseReason
            }
            if reason?.kind != previous?.kind {
                if let reason { log.log(.notice, "pausing searches: \(reason)", key: "pause \(reason.kind)") } else { log.log(.notice, "resuming searches") }
            }
            let tasks = (try? store.tasks()) ?? []
            if reason == nil {
                startWork(tasks: tasks, runners: &runners, settings: settings, planner: planner, improver: improver)
            }
            // Fewer cores than searches (the setting was lowered): the newest stop at their checkpoint.
            for runner in runners.values.sorted(by: { $0.startedAt > $1.startedAt }).prefix(max(0, runners.count - settings.cores)) {
                runner.halt.trigger()
            }
            let pending = (try? store.pendingUploads()) ?? []
            writeStatus(tasks: tasks, pending: pending, running: true)
            if settings.exitWhenIdle, tasks.isEmpty, pending.isEmpty, runners.isEmpty, shared.with({ $0.projectIdle }) {
                logger.info("the coordinator has no more work; exiting (--exit-when-idle)")
                idleExit = true
                break
            }
            stop.wait(seconds: settings.configuration.loopIntervalSeconds)
        }
        let signalled = !idleExit
        stop.trigger()
        // Search threads stop after their current trial, with their checkpoint written.
        for runner in runners.values { runner.halt.trigger() }
        let deadline = Date().addingTimeInterval(20)
        while runners.values.contains(where: { $0.outcome == .running }), Date() < deadline {
            Thread.sleep(forTimeInterval: 0.02)
        }
        finished += runners.values.filter { $0.outcome == .finished }.count
        // A plan being measured (at most 5 s) is not waited for: it is measured again next time.
        _ = try? planner.saveWisdomIfIdle()
        writeStatus(tasks: (try? store.tasks()) ?? [], pending: (try? store.pendingUploads()) ?? [], running: false)
        logger.info("stopped: \(finished) units finished in this run")
        return RunSummary(finished: finished, signalled: signalled)
    }

    /// Starts searches on free cores (a core freed by a finished unit goes to improving a quick
    /// FFT plan first, if one waits), within the memory limit.
    func startWork(tasks: [TaskRecord], runners: inout [String: SearchRunner], settings: RunSettings, planner: FFTPlanner,
                   improver: PlanImprover) {
        if improver.canStart, runners.count < settings.cores {
            let shared = self.shared, log = self.log
            improver.start { size in
                shared.with { $0.improvingPlan = size }
            } report: { size, seconds in
                shared.with { $0.improvingPlan = nil }
                log.log(.info, "FFTW plan for \(size) points measured in \(String(format: "%.1f", seconds)) s")
            }
        }
        let limit = settings.configuration.effectiveMemoryLimitMB()
        var memoryInUse = runners.values.reduce(0) { $0 + $1.record.memoryMB }
        let abandoning = shared.with { Set($0.toAbandon.keys) }
        for task in tasks where task.payloadVerified && task.acknowledged && runners[task.replicaID] == nil
            && !abandoning.contains(task.replicaID) {
            guard runners.count + (improver.busy ? 1 : 0) < settings.cores else { break }
            // A unit that would take the searches over the memory limit waits for others to finish.
            let memory = task.memoryMB
            if memory > limit {
                // It can never run here (the limit was lowered, or an older coordinator did not say).
                giveUp(task.replicaID, kind: .refused, reason: "the search needs \(memory) MB, more than memory_limit_mb (\(limit))")
                continue
            }
            guard memoryInUse + memory <= limit else { continue }
            memoryInUse += memory
            let runner = SearchRunner(record: task, store: store, planner: planner, settings: settings,
                                      shared: shared, logger: logger)
            runners[task.replicaID] = runner
            runner.start()
        }
    }

    /// Rereads `config.json`; returns the new configuration when it changed and is valid.
    func reloadConfiguration() -> WorkerConfiguration? {
        let old = shared.with { $0.settings }
        let file: WorkerConfiguration
        do {
            file = try state.loadConfiguration()
        } catch {
            report("\(error); keeping the running settings")
            return nil
        }
        var new = old
        new.configuration = old.overrides.applied(to: file)
        let changes = new.configuration.differences(from: old.configuration)
        guard !changes.isEmpty else { return nil }
        shared.with { $0.settings = new }
        logger.notice("settings changed: \(changes.map(\.change).joined(separator: ", "))")
        let later = changes.map(\.key).filter { WorkerConfiguration.restartOnlyKeys.contains($0) }
        if !later.isEmpty {
            logger.notice("\(later.joined(separator: ", ")) take effect when the worker restarts")
        }
        return new.configuration
    }

    /// Gives a task up: the transfer thread tells the coordinator and deletes it (this thread
    /// never waits on the network); it is not started again meanwhile.
    func giveUp(_ replica: String, kind: AbandonKind, reason: String) {
        shared.with { $0.toAbandon[replica] = AbandonRequest(reason: reason, kind: kind) }
    }

    /// Logs a problem and keeps it as the status's last error.
    func report(_ message: String) {
        log.log(.error, message)
        shared.with { $0.lastError = WorkerProblem(message) }
    }

    /// The last error and hours of the previous run stay visible until there are newer ones.
    func restorePreviousStatus() {
        guard let previous = try? AtomicFile.readJSON(WorkerStatus.self, from: state.statusFile) else { return }
        shared.with {
            $0.lastError = previous.lastError
            $0.hours = previous.hours
            $0.hoursUpdatedAt = previous.hoursUpdatedAt
        }
    }

    func writeStatus(tasks: [TaskRecord], pending: [PendingUploadStatus], running: Bool) {
        let current = shared.current
        let snapshot = StatusBuilder(store: store, settings: current.settings).build(
            host: host, tasks: tasks, pending: pending, shared: current, running: running)
        do {
            try AtomicFile.writeJSON(snapshot, to: state.statusFile)
        } catch {
            log.log(.warning, "cannot write status: \(error)")
        }
    }
}
