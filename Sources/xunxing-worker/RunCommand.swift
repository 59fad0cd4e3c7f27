import ArgumentParser
import Foundation
import Logging
import PulsarSearch
import WorkUnits
import Worker
import XunxingSupport

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the worker daemon: fetch work, search it, upload the results.",
        discussion: """
            Runs until SIGTERM or SIGINT (it then writes its checkpoints and exits within a few \
            seconds; a search resumes where it stopped). Options given here override config.json \
            for this run only; `xunxing-worker config set` changes them for good, and the running \
            daemon picks the change up within a second (SIGHUP makes it reread config.json too).

            Examples:
              xunxing-worker run
              xunxing-worker run --cores 2 --cpu-limit-percent 50
              xunxing-worker run --state-dir /tmp/w1 --exit-when-idle --fft-rigor estimate
            """
    )

    @OptionGroup var state: StateOptions
    @Flag(help: "Exit when nothing is held and the coordinator has no unfinished work (scripts, tests).")
    var exitWhenIdle = false
    @Option(help: "Searches to run at once, one core each (default: all cores but one).") var cores: Int?
    @Option(name: [.customLong("cpu-limit-percent"), .customLong("cpu-limit")],
            help: "Percent of each core the searches may use, 1-100 (the setting cpu_limit_percent).")
    var cpuLimit: Double?
    @Option(help: "Seconds of work to keep buffered.") var bufferSeconds: Double?
    @Option(help: "Speed relative to the reference core (default: measured once and saved).") var speed: Double?
    @Option(help: "FFTW planning: estimate, measure or patient.") var fftRigor: FFTRigor?
    @Option(help: "Seconds between rounds of the daemon's loops.") var loopInterval: Double?
    @Option(help: "First retry delay bound after a failed transfer, seconds.") var backoffBase: Double?
    @Option(help: "Largest retry delay bound, seconds.") var backoffCap: Double?
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel: Logger.Level = .info

    func run() throws {
        let logger = makeLogger(level: logLevel)
        let directory = state.state
        let summary = try reporting { () -> RunSummary in
            try directory.prepare()
            // Not attached: say so now, not after a speed benchmark.
            _ = try directory.loadHost()
            var configuration = try directory.loadConfiguration()
            if configuration.speed == nil, speed == nil {
                let planner = FFTPlanner(rigor: .estimate)
                let measured = SpeedBenchmark.measure(planner: planner)
                logger.info("measured speed: \(String(format: "%.2f", measured)) x the reference core")
                // Read, change and write under the lock `config set` takes: keep its changes.
                configuration = try directory.withConfigurationLock {
                    var current = try directory.loadConfiguration()
                    current.speed = measured
                    try directory.saveConfiguration(current)
                    return current
                }
            }
            var overrides = ConfigurationOverrides()
            overrides.cores = cores
            overrides.cpuLimitPercent = cpuLimit
            overrides.bufferSeconds = bufferSeconds
            overrides.speed = speed
            overrides.fftRigor = fftRigor
            overrides.loopIntervalSeconds = loopInterval
            overrides.backoffBaseSeconds = backoffBase
            overrides.backoffCapSeconds = backoffCap
            var settings = RunSettings(configuration: configuration, overrides: overrides)
            settings.exitWhenIdle = exitWhenIdle
            let stop = StopFlag()
            let reload = Locked(false)
            let watcher = SignalWatcher(stop: stop, reload: reload) { number in
                if number == SIGHUP {
                    logger.notice("SIGHUP: rereading config.json")
                } else {
                    logger.notice("signal \(number): checkpointing and stopping")
                }
            }
            defer { withExtendedLifetime(watcher) {} }
            return try WorkerDaemon(state: directory, settings: settings, logger: logger, stop: stop, reload: reload).run()
        }
        _ = summary
    }
}

extension FFTRigor: ExpressibleByArgument {}
