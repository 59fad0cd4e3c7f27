import ArgumentParser
import Foundation
import PulsarSearch

struct BenchFFACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ffa",
        abstract: "Time the FFA search of one time series and report its S/N at a given period.",
        discussion: """
            Reads a time series (.tim, or a PRESTO .dat/.inf pair), runs the FFA search (running \
            median, normalisation, periodogram, peaks) --repeats times in this process on one \
            thread, and prints one JSON object: the median CPU seconds, and the best periodogram \
            S/N within 0.5% of --period with its period and duty cycle. scripts/bench-ffa.sh runs \
            it beside riptide (scripts/riptide_time.py) with the same options over a grid of \
            periods and duty cycles.
            """
    )

    @Option(help: "The time series (.tim, .dat or .inf).") var series: String
    @Option(help: "Period (s) whose S/N is reported.") var period: Double
    @Option(help: "Shortest trial period, s.") var periodMin: Double = FFAOptions().periodMin
    @Option(help: "Longest trial period, s.") var periodMax: Double = FFAOptions().periodMax
    @Option(help: "Fewest phase bins.") var binsMin: Int = FFAOptions().binsMin
    @Option(help: "Most phase bins.") var binsMax: Int = FFAOptions().binsMax
    @Option(help: "Widest boxcar as a fraction of the period.") var dutyMax: Double = FFAOptions().dutyCycleMax
    @Option(help: "Running-median window, s.") var detrend: Double = FFAOptions().detrendSeconds
    @Option(help: "Fewest turns of a period in the series.") var minTurns: Double = FFAOptions().minTurns
    @Option(help: "Timed runs (median reported).") var repeats: Int = 3

    func run() throws {
        let series = try TimeSeriesFile.read(path: self.series)
        var options = FFAOptions()
        options.periodMin = periodMin
        options.periodMax = periodMax
        options.binsMin = binsMin
        options.binsMax = binsMax
        options.dutyCycleMax = dutyMax
        options.detrendSeconds = detrend
        options.minTurns = minTurns
        if let problem = options.problem { throw ValidationError(problem) }
        var detections: [SeriesCandidate] = []
        let seconds = BenchTiming.median(repeats: repeats) {
            detections = series.samples.withUnsafeBufferPointer {
                FFASearch(options: options, sigmaThreshold: 0).search($0, sampleTime: series.tsamp, dm: series.dm, dmIndex: 0)
            }
        }.cpu
        // The periodogram itself, for the S/N at the period (the peaks keep only the strongest).
        let periodogram = series.samples.withUnsafeBufferPointer {
            FFASearch(options: options).periodogram($0, sampleTime: series.tsamp)
        }
        let near = periodogram.periods.indices.filter { abs(periodogram.periods[$0] - period) < 0.005 * period }
        let best = near.max { periodogram.snr[$0] < periodogram.snr[$1] }
        var report: [String: Double] = [
            "seconds": seconds, "trials": Double(periodogram.periods.count),
            "detections": Double(detections.count),
        ]
        if let best {
            report["snr"] = Double(periodogram.snr[best])
            report["period"] = periodogram.periods[best]
            report["ducy"] = periodogram.dutyCycle(best)
        }
        let data = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }
}
