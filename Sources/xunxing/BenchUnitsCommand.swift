import ArgumentParser
import Foundation
import PulsarSearch
import WorkUnits

struct BenchUnitsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "units",
        abstract: "Check the cost model: each work unit's estimated cost against the CPU time its search takes here.",
        discussion: """
            Build with `swift build -c release` first (or run scripts/bench-cost.sh). Splits a \
            filterbank as the coordinator does (the same DM plan, planner and payloads) with the \
            given preset, then searches up to --max-units of its units (spread over the plan) as a \
            worker does, from reading the payload to the packaged result, and prints each unit's \
            estimate (reference-core seconds, what its volunteer is credited: the planned cost and \
            the measuring of the peaks it found), the CPU seconds \
            measured (the least of --runs runs) and their ratio. On the reference core (the \
            project's build machine) the ratio should be within 0.8-1.2; on another machine it is \
            that machine's speed. A shared machine's speed drifts by 10-20 % between runs. --fft-rigor estimate is a fresh host (quick plans, planning \
            included in the time); measure is a settled host (plans measured first, not timed).

            Examples:
              xunxing bench units ../shared/data/tutorial.fil --preset workunits/tiny.json
              xunxing bench units --simulate 20 --channels 64 --preset workunits/quick.json --max-units 3
            """
    )

    @Argument(help: "Filterbank to split (omit with --simulate).")
    var filterbank: String?
    @Option(help: "Preset file (workunits/*.json).")
    var preset: String = "workunits/tiny.json"
    @Option(help: "Simulate a filterbank of 2^N spectra (noise and one pulsar) instead of reading one.")
    var simulate: Int?
    @Option(help: "Channels of the simulated filterbank.")
    var channels: Int = 64
    @Option(help: "Sample time of the simulated filterbank, s.")
    var tsamp: Double = 64e-6
    @Option(help: "Highest DM, pc cm^-3 (default: the preset's, else the band's default).")
    var dmMax: Double?
    @Option(help: "Highest acceleration, m/s^2 (default: the preset's).")
    var accelMax: Double?
    @Option(help: "Units searched, spread evenly over the plan.")
    var maxUnits: Int = 12
    @Option(help: "Runs of each unit; the least CPU time is reported.")
    var runs: Int = 3
    @Option(help: "FFTW planning: estimate (a fresh host) or measure (a settled host).")
    var fftRigor: FFTRigor = .estimate

    func validate() throws {
        guard (filterbank == nil) != (simulate == nil) else {
            throw ValidationError("give a filterbank or --simulate N, not both or neither")
        }
        guard maxUnits > 0, runs > 0 else { throw ValidationError("--max-units and --runs must be at least 1") }
    }

    func run() throws {
        let fm = FileManager.default
        let dir = (NSTemporaryDirectory() as NSString).appendingPathComponent("xunxing-bench-units-\(getpid())")
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? fm.removeItem(atPath: dir) }
        let preset = try PresetCatalog.load(file: self.preset)
        let path = try filterbank ?? simulated(in: dir)
        let reader = try FilterbankReader(path: path)
        let derived = DatasetSearchPlan(reader: reader, preset: preset, dmMax: dmMax, accelMax: accelMax)
        let planned = WorkUnitPlanner.plan(
            dmPlan: derived.plan, spectra: reader.spectrumCount, sampleTime: reader.header.tsamp,
            accelMax: derived.accelMax, preset: preset)
        let splitter = PayloadSplitter(
            datasetID: "bench", dmPlan: derived.plan, units: planned, preset: preset, search: preset.searchParameters)
        var timings = SplitTimings()
        var counter = 0
        printError("splitting \((path as NSString).lastPathComponent) with preset \(preset.name): \(planned.count) units ...")
        let payloads = try splitter.write(
            source: reader, weights: try ChannelWeights.measure(reader), directory: dir,
            makeID: { counter += 1; return "unit\(counter)" }, timings: &timings)
        let chosen = Self.spread(payloads.count, maxUnits).map { payloads[$0] }

        print("preset \(preset.name), \(payloads.count) units, \(chosen.count) searched, FFTW \(fftRigor.rawValue), least CPU s of \(runs) runs")
        print("unit   series  samples  accel trials  candidates   peaks  credited s  measured s  measured/credited  memory MB  model MB")
        var ratios: [Double] = []
        for payload in chosen {
            let planner = FFTPlanner(rigor: fftRigor)
            if fftRigor != .estimate {
                _ = planner.plan(size: PeriodicitySearcher.fftSize(forSamples: payload.samplesPerSeries))
            }
            var best = Double.infinity
            var found = 0, peaks = 0
            // Peak memory of the first run over what the process held before it (the worker's
            // memory limit counts units by WorkUnitMemory's model, printed beside it).
            ProcessMemory.resetPeak()
            let before = ProcessMemory.residentBytes() ?? 0
            var memoryMB = 0
            for run in 0..<runs {
                let start = CPUClock.processSeconds()
                let executor = try WorkUnitExecutor(payload: payload.path, planner: planner)
                let result = executor.result(software: "bench")
                found = result.candidates.count
                peaks = result.peaksMeasured
                best = min(best, CPUClock.processSeconds() - start)
                if run == 0 { memoryMB = max(0, (ProcessMemory.peakResidentBytes() ?? 0) - before) >> 20 }
            }
            let unit = payload.unit
            // What its volunteer is credited: the planned cost and the candidates measured.
            let credited = unit.estimatedCost + CostModel.reference.peakCost(peaks)
            let ratio = best / credited
            ratios.append(ratio)
            let model = WorkUnitMemory.megabytes(seriesCount: unit.dmTrials.count, samplesPerSeries: payload.samplesPerSeries)
            print(String(format: "%4d  %7d  %7d  %12d  %10d  %6d  %10.4f  %10.4f  %17.2f  %9d  %8d",
                payload.sequence, unit.dmTrials.count, payload.samplesPerSeries, unit.accelerations.count, found, peaks,
                credited, best, ratio, memoryMB, model))
        }
        let sorted = ratios.sorted()
        let within = ratios.filter { (0.8...1.2).contains($0) }.count
        print(String(format: "measured/credited: median %.2f, lowest %.2f, highest %.2f; %d of %d units within 0.8-1.2",
            sorted[sorted.count / 2], sorted.first!, sorted.last!, within, ratios.count))
    }

    /// `count` indices spread evenly over `0..<total`, first and last included.
    static func spread(_ total: Int, _ count: Int) -> [Int] {
        guard total > count else { return Array(0..<total) }
        guard count > 1 else { return [0] }
        return (0..<count).map { $0 * (total - 1) / (count - 1) }
    }

    private func simulated(in dir: String) throws -> String {
        guard let log2 = simulate else { throw ValidationError("no filterbank") }
        var o = SimulatedObservation.benchmark(channels: channels, samples: 1 << log2, sampleTime: tsamp)
        o.pulsars = [InjectedPulsar(period: 0.0123, dm: 50, dutyCycle: 0.05, snr: 20)]
        let path = (dir as NSString).appendingPathComponent("simulated-2^\(log2).fil")
        printError("simulating 2^\(log2) spectra x \(channels) channels ...")
        try Simulator.writeFilterbank(o, to: path)
        return path
    }
}
