import Foundation
import Logging
import PulsarSearch
import XunxingClient
import XunxingHTTPClient

/// Settings of one run of the daemon: the saved configuration with the command line's overrides.
public struct RunSettings: Sendable {
    public var configuration: WorkerConfiguration
    /// Stop when nothing is held and the coordinator has no unfinished work at all.
    public var exitWhenIdle = false
    public var memoryMB: Int = Int(ProcessInfo.processInfo.physicalMemory >> 20)
    /// The software string reported with results.
    public var software = "xunxing-worker \(WorkerVersion.string)"

    public init(configuration: WorkerConfiguration) {
        self.configuration = configuration
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
/// thread per core for tasks whose payload is verified, writes `status.json` every loop interval
/// and stops cleanly on SIGTERM; and one transfer thread (``TransferLoop``).
public final class WorkerDaemon: @unchecked Sendable {
    public let state: StateDirectory
    public let settings: RunSettings
    let logger: Logger
    let stop: StopFlag
    let shared: Locked<DaemonState>
    let store: TaskStore
    let host: HostIdentity

    /// Prepares a run: takes nothing yet (``run()`` takes the lock).
    public init(state: StateDirectory, settings: RunSettings, logger: Logger, stop: StopFlag = StopFlag()) throws {
        try settings.configuration.validate()
        self.state = state
        self.settings = settings
        self.logger = logger
        self.stop = stop
        self.store = TaskStore(state: state)
        self.host = try state.loadHost()
        try CoordinatorURLPolicy.check(host.coordinatorURL)
        let c = settings.configuration
        self.shared = Locked(DaemonState(backoff: Backoff(base: c.backoffBaseSeconds, cap: c.backoffCapSeconds)))
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
        let c = settings.configuration
        if !lowerPriority(niceness: c.niceness) { logger.debug("could not set niceness \(c.niceness)") }
        // Quick plans first, measured ones in spare time (PlanImprover).
        let planner = FFTPlanner(rigor: c.fftRigor, wisdomPath: state.wisdomFile, deferred: true)
        let improver = PlanImprover(planner: planner)
        let api = CoordinatorClient(baseURL: host.coordinatorURL, secret: host.hostKey,
                                    http: HTTPClient(configuration: Self.httpConfiguration(c)))
        let downloads = CoordinatorClient(baseURL: host.coordinatorURL, secret: host.hostKey,
                                          http: HTTPClient(configuration: Self.httpConfiguration(c, forDownloads: true)))
        logger.info("xunxing-worker \(WorkerVersion.string): host \(host.hostID) at \(host.coordinatorURL), \(settings.cores) cores, speed \(String(format: "%.2f", settings.speed)), CPU limit \(c.cpuLimitPercent)%")

        TransferLoop(store: store, api: api, downloads: downloads, settings: settings, stop: stop, shared: shared,
                     logger: logger).start()
        HoursProbe.startPolling(client: api, shared: shared, stop: stop)

        var policy = GuestPolicy(configuration: c)
        let dutyCycle = DutyCycle(limitPercent: c.cpuLimitPercent)
        var runners: [String: SearchRunner] = [:]
        var failures: [String: Int] = [:]
        var finished = 0
        var idleExit = false
        while !stop.isSet {
            // Reap finished searches.
            for (replica, runner) in runners where runner.outcome != .running {
                if runner.outcome == .finished { finished += 1 }
                if case let .failed(reason) = runner.outcome {
                    failures[replica, default: 0] += 1
                    if failures[replica]! >= 3 {
                        logger.error("replica \(replica) failed 3 times; giving it up: \(reason)")
                        // Tell the coordinator, which sends the unit to another host at once
                        // (unreachable: it finds out at the unit's deadline).
                        do {
                            try api.abandon(replica: replica, reason: "failed 3 times: \(reason)")
                        } catch {
                            logger.warning("could not tell the coordinator that replica \(replica) was given up: \(error)")
                        }
                        store.removeTask(replica)
                    }
                }
                runners.removeValue(forKey: replica)
            }
            let reason = policy.evaluate()
            let previous = shared.with { s -> PauseReason? in
                defer { s.pauseReason = reason }
                return s.pauseReason
            }
            if reason != previous {
                if let reason { logger.notice("pausing searches: \(reason)") } else { logger.notice("resuming searches") }
            }
            let tasks = (try? store.tasks()) ?? []
            if reason == nil {
                // A core freed by a finished unit goes to improving a quick plan first, if any.
                if improver.canStart, runners.count < settings.cores {
                    let log = logger
                    improver.start { size, seconds in
                        log.info("FFTW plan for \(size) points measured in \(String(format: "%.1f", seconds)) s")
                    }
                }
                for task in tasks where task.payloadVerified && task.acknowledged && runners[task.replicaID] == nil {
                    guard runners.count + (improver.busy ? 1 : 0) < settings.cores else { break }
                    let runner = SearchRunner(record: task, store: store, planner: planner, dutyCycle: dutyCycle, stop: stop,
                                              shared: shared, logger: logger, software: settings.software)
                    runners[task.replicaID] = runner
                    runner.start()
                }
            }
            let pending = (try? store.pendingResults()) ?? []
            writeStatus(tasks: tasks, pending: pending, running: true)
            if settings.exitWhenIdle, tasks.isEmpty, pending.isEmpty, runners.isEmpty, shared.with({ $0.projectIdle }) {
                logger.info("the coordinator has no more work; exiting (--exit-when-idle)")
                idleExit = true
                break
            }
            stop.wait(seconds: c.loopIntervalSeconds)
        }
        let signalled = !idleExit
        stop.trigger()
        // Search threads stop after their current trial, with their checkpoint written.
        let deadline = Date().addingTimeInterval(20)
        while runners.values.contains(where: { $0.outcome == .running }), Date() < deadline {
            Thread.sleep(forTimeInterval: 0.02)
        }
        finished += runners.values.filter { $0.outcome == .finished }.count
        try? planner.saveWisdom()
        writeStatus(tasks: (try? store.tasks()) ?? [], pending: (try? store.pendingResults()) ?? [], running: false)
        logger.info("stopped: \(finished) units finished in this run")
        return RunSummary(finished: finished, signalled: signalled)
    }

    func writeStatus(tasks: [TaskRecord], pending: [PendingResult], running: Bool) {
        let snapshot = StatusBuilder(store: store, settings: settings).build(
            host: host, tasks: tasks, pending: pending, shared: shared.current, running: running)
        do {
            try AtomicFile.writeJSON(snapshot, to: state.statusFile)
        } catch {
            logger.warning("cannot write status: \(error)")
        }
    }
}
