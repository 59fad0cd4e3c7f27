import ArgumentParser
import Foundation
import PulsarSearch

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
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
            """,
        subcommands: [BenchSplitCommand.self]
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

    func run() throws {
        let n = 1 << log2Size
        printError("planning a \(n)-point FFT (\(fftRigor.rawValue))...")
        let planner = FFTPlanner(rigor: fftRigor, wisdomPath: wisdom ?? defaultWisdomPath())
        let plan = planner.plan(size: n)
        try? planner.saveWisdom()
        let series = Simulator.timeSeries(
            samples: n, tsamp: tsamp,
            pulsars: [InjectedPulsar(period: 0.0031, dm: 0, dutyCycle: 0.05, snr: 30, acceleration: 0)], seed: 7)

        let workspace = FFTWorkspace(size: n)
        series.samples.withUnsafeBufferPointer { workspace.real.update(from: $0.baseAddress!, count: n) }
        let fft = median(repeats) { plan.execute(input: workspace.real, output: workspace.complex) }

        var parameters = SpectralSearchParameters()
        parameters.maxHarmonics = harmonics
        let searcher = PeriodicitySearcher(planner: planner, parameters: parameters)
        var found: [SeriesCandidate] = []
        let search = series.samples.withUnsafeBufferPointer { samples in
            median(repeats) { found = searcher.search(samples: samples, tsamp: tsamp) }
        }
        let stages = searcher.timings
        searcher.timings = SearchTimings()

        let duration = Double(n) * tsamp
        let accel = AccelerationPlan(maxAcceleration: 100, duration: duration, sampleTime: tsamp)
        let trial = series.samples.withUnsafeBufferPointer { samples in
            median(repeats) {
                _ = searcher.search(samples: samples, tsamp: tsamp, acceleration: accel.trials[1],
                    trialsPerSeries: accel.trials.count)
            }
        }
        let best = found.first
        let per = 1000 / Double(stages.searches)
        print(String(format: "  stages (mean ms): prepare %.2f, FFT %.2f, spectrum+whitening %.2f, harmonic sum %.2f, peak measurement %.2f",
            stages.prepare * per, stages.fft * per, stages.spectrum * per, stages.harmonicSum * per, stages.measure * per))
        print("series: 2^\(log2Size) = \(n) points, \(harmonics) harmonics, FFTW \(fftRigor.rawValue) plan, median of \(repeats)")
        print(String(format: "bare FFTW r2c:               %8.2f ms   1.00 x", fft * 1000))
        print(String(format: "full search (no accel):      %8.2f ms   %.2f x FFT", search * 1000, search / fft))
        print(String(format: "per acceleration trial:      %8.2f ms   %.2f x FFT  (%d trials for |a| <= 100 m/s^2 over %.0f s)",
            trial * 1000, trial / fft, accel.trials.count, duration))
        if let best {
            print(String(format: "injected P = 3.1 ms recovered: P = %.6f ms, sigma %.1f, %d harmonics",
                1000 / best.frequency, best.sigma, best.harmonics))
        }
    }

    private func median(_ count: Int, _ body: () -> Void) -> Double {
        body()  // warm-up
        var times: [Double] = []
        for _ in 0..<max(1, count) {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return times.sorted()[times.count / 2]
    }
}
