import ArgumentParser
import Foundation
import PulsarSearch

/// The floor a whole `xunxing search` of a time series is measured against: what any FFT search
/// of the file must do at least, as one process.
struct BenchFloorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "floor",
        abstract: "Read a time series, do one FFTW transform of it and one pass over the spectrum, and exit.",
        discussion: """
            The floor of scripts/bench-whole-search.sh: process start, reading the file (.dat/.inf \
            or .tim) as `xunxing search` reads it, one mean-subtracted copy into the transform's \
            buffer, one real-to-complex FFTW transform planned from the wisdom file (--fft-rigor \
            as in `xunxing search`), and one pass over the spectrum (its powers, by the search's own \
            kernel; their sum is printed so that nothing is optimised away). Time it from outside, as a whole \
            command, beside `xunxing search` of the same file.

            Example: xunxing bench floor obs.dat --fft-rigor measure
            """
    )

    @Argument(help: "Time series (.dat, .inf or .tim).")
    var input: String
    @Option(help: "FFTW planning: estimate, measure or patient.")
    var fftRigor: FFTRigor = .measure
    @Option(help: "FFTW wisdom file (default: ~/.cache/xunxing/fftw-wisdom).")
    var wisdom: String?

    func run() throws {
        let series = try TimeSeriesFile.read(path: input)
        let n = PeriodicitySearcher.fftSize(forSamples: series.samples.count)
        let planner = FFTPlanner(rigor: fftRigor, wisdomPath: wisdom ?? defaultWisdomPath())
        _ = planner.plan(size: n)
        try? planner.saveWisdom()
        let total = SearchFloor.run(series.samples, planner: planner)
        print(String(format: "%d points, power sum %.6e", n, total))
    }
}
