import ArgumentParser
import Foundation
import Logging
import PulsarSearch
import WorkUnits
import Worker

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the worker daemon: fetch work, search it, upload the results.",
        discussion: """
            Runs until SIGTERM or SIGINT (it then writes its checkpoints and exits within a few \
            seconds; a search resumes where it stopped). Options given here override config.json \
            for this run only; `xunxing-worker config set` changes them for good.

            Examples:
              xunxing-worker run
              xunxing-worker run --cores 2 --cpu-limit 50
              xunxing-worker run --state-dir /tmp/w1 --exit-when-idle --fft-rigor estimate
            """
    )

    @OptionGroup var state: StateOptions
    @Flag(help: "Exit when nothing is held and the coordinator has no unfinished work (scripts, tests).")
    var exitWhenIdle = false
    @Option(help: "Searches to run at once, one core each (default: all cores but one).") var cores: Int?
    @Option(help: "Percent of each core the searches may use, 1-100.") var cpuLimit: Double?
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
                configuration.speed = SpeedBenchmark.measure(planner: planner)
                logger.info("measured speed: \(String(format: "%.2f", configuration.speed!)) x the reference core")
                try directory.saveConfiguration(configuration)
            }
            if let cores { configuration.cores = cores }
            if let cpuLimit { configuration.cpuLimitPercent = cpuLimit }
            if let bufferSeconds { configuration.bufferSeconds = bufferSeconds }
            if let speed { configuration.speed = speed }
            if let fftRigor { configuration.fftRigor = fftRigor }
            if let loopInterval { configuration.loopIntervalSeconds = loopInterval }
            if let backoffBase { configuration.backoffBaseSeconds = backoffBase }
            if let backoffCap { configuration.backoffCapSeconds = backoffCap }
            var settings = RunSettings(configuration: configuration)
            settings.exitWhenIdle = exitWhenIdle
            let stop = StopFlag()
            let watcher = SignalWatcher(stop: stop) { number in
                logger.notice("signal \(number): checkpointing and stopping")
            }
            defer { withExtendedLifetime(watcher) {} }
            return try WorkerDaemon(state: directory, settings: settings, logger: logger, stop: stop).run()
        }
        _ = summary
    }
}

extension FFTRigor: ExpressibleByArgument {}
