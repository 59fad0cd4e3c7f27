import ArgumentParser
import Foundation
import PulsarSearch

/// `xunxing bench search` (the default of `xunxing bench`): the periodicity search against FFTW.
struct BenchSearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Measure the periodicity search against the bare FFTW transform of the same length.",
        discussion: """
            Build with `swift build -c release` first (or run scripts/bench.sh): debug builds are \
            not representative. Times are medians of --repeats runs in this process; the ratios \
            compare runs measured side by side, so they carry across machines better than the times.

            The baseline is FFTW's single-precision real-to-complex transform alone, planned with \
            the same --fft-rigor. The full search adds mean removal, power spectrum, red-noise \
            whitening, harmonic summing (--harmonics) and Fourier-interpolated measurement of the \
            peaks. An acceleration trial adds time-domain resampling to all of that.

            `xunxing bench split` measures the splitter instead (scripts/bench-split.sh).
            """
    )

    @Option(help: "log2 of the series length.")
    var log2Size: Int = 22
    @Option(help: "Sample time of the simulated series, s.")
    var tsamp: Double = 64e-6
    @Option(help: "Harmonics summed.")
    var harmonics: Int = 16
    @Option(help: "Timed runs of each measurement (the median is reported).")
    var repeats: Int = 9
    @Option(help: "FFTW planning: estimate, measure or patient (measure: a minute or so the first time for 2^22).")
    var fftRigor: FFTRigor = .measure
    @Option(help: "FFTW wisdom file (default: ~/.cache/xunxing/fftw-wisdom).")
    var wisdom: String?
    @Option(help: "Clock: wall, or cpu (this thread's CPU time: the wall time of an idle machine, steadier when other jobs share the cores).")
    var clock: BenchClock = .wall
    @Option(help: "Statistic of the repeats: median, or min (the least disturbed run).")
    var statistic: BenchStatistic = .median
    @Option(help: "Time series to search (.dat, .inf or .tim) instead of simulated data.")
    var input: String?
    @Option(help: "Lowest spin frequency searched, Hz.")
    var minFrequency: Double = 0.2
    @Option(help: "Highest spin frequency searched, Hz (default: Nyquist).")
    var maxFrequency: Double?

    func run() throws {
        let injected = 0.0031
        let series = try input.map { try TimeSeriesFile.read(path: $0) } ?? Simulator.timeSeries(
            samples: 1 << log2Size, tsamp: self.tsamp,
            pulsars: [InjectedPulsar(period: injected, dm: 0, dutyCycle: 0.05, snr: 30, acceleration: 0)], seed: 7)
        let tsamp = series.tsamp
        let n = PeriodicitySearcher.fftSize(forSamples: series.samples.count)
        printError("planning a \(n)-point FFT (\(fftRigor.rawValue))...")
        let planner = FFTPlanner(rigor: fftRigor, wisdomPath: wisdom ?? defaultWisdomPath())
        let plan = planner.plan(size: n)
        try? planner.saveWisdom()

        let workspace = FFTWorkspace(size: n)
        workspace.real.update(repeating: 0, count: n)
        series.samples.withUnsafeBufferPointer { workspace.real.update(from: $0.baseAddress!, count: $0.count) }

        var parameters = SpectralSearchParameters()
        parameters.maxHarmonics = harmonics
        parameters.minFrequency = minFrequency
        parameters.maxFrequency = maxFrequency
        let searcher = PeriodicitySearcher(planner: planner, parameters: parameters)
        let duration = series.duration
        let accel = AccelerationPlan(maxAcceleration: 100, duration: duration, sampleTime: tsamp)
        var found: [SeriesCandidate] = []
        // Rounds of (FFT, search, acceleration trial), so that all three see the same load.
        let (fft, search, trial, stages) = series.samples.withUnsafeBufferPointer { samples in
            let measurements: [() -> Void] = [
                { plan.execute(input: workspace.real, output: workspace.complex) },
                { found = searcher.search(samples: samples, tsamp: tsamp) },
                {
                    _ = searcher.search(samples: samples, tsamp: tsamp, acceleration: accel.trials[1],
                        trialsPerSeries: accel.trials.count)
                },
            ]
            for m in measurements { m() }  // warm-up
            var times = [[Double]](repeating: [], count: measurements.count)
            var stages = SearchTimings()
            for _ in 0..<max(1, repeats) {
                for (i, m) in measurements.enumerated() {
                    if i == 1 { searcher.timings = SearchTimings() }
                    let start = clock.now()
                    m()
                    times[i].append(clock.now() - start)
                    if i == 1 { stages = Self.add(stages, searcher.timings) }
                }
            }
            let medians = times.map { $0.sorted()[statistic == .min ? 0 : $0.count / 2] }
            return (medians[0], medians[1], medians[2], stages)
        }
        let best = found.first
        let per = 1000 / Double(stages.searches)
        print(String(format: "  stages (mean ms): prepare %.2f, FFT %.2f, spectrum+whitening %.2f, harmonic sum %.2f, peak measurement %.2f",
            stages.prepare * per, stages.fft * per, stages.spectrum * per, stages.harmonicSum * per, stages.measure * per))
        print("series: \(input ?? "simulated"), \(series.samples.count) samples, \(n)-point FFT, \(harmonics) harmonics, FFTW \(fftRigor.rawValue) plan, \(statistic.rawValue) of \(repeats), \(clock.rawValue) time")
        print(String(format: "bare FFTW r2c:               %8.2f ms   1.00 x", fft * 1000))
        print(String(format: "full search (no accel):      %8.2f ms   %.2f x FFT", search * 1000, search / fft))
        print(String(format: "per acceleration trial:      %8.2f ms   %.2f x FFT  (%d trials for |a| <= 100 m/s^2 over %.0f s)",
            trial * 1000, trial / fft, accel.trials.count, duration))
        if let best {
            print(String(format: "%@: P = %.6f ms, sigma %.1f, %d harmonics",
                input == nil ? "injected P = 3.1 ms recovered" : "strongest candidate",
                1000 / best.frequency, best.sigma, best.harmonics))
        }
    }

    private static func add(_ a: SearchTimings, _ b: SearchTimings) -> SearchTimings {
        var t = a
        t.prepare += b.prepare
        t.fft += b.fft
        t.spectrum += b.spectrum
        t.harmonicSum += b.harmonicSum
        t.measure += b.measure
        t.searches += b.searches
        return t
    }
}

enum BenchStatistic: String, ExpressibleByArgument, CaseIterable {
    case median, min
}

enum BenchClock: String, ExpressibleByArgument, CaseIterable {
    case wall, cpu

    /// Seconds on this clock.
    func now() -> Double {
        self == .wall ? Double(DispatchTime.now().uptimeNanoseconds) / 1e9 : CPUClock.threadSeconds()
    }
}
