import ArgumentParser
import Foundation
import PulsarSearch

struct BenchSinglePulseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "single-pulse",
        abstract: "Measure the single-pulse search of a DM trial against the dedispersion that makes it.",
        discussion: """
            Simulates an 8-bit filterbank (--channels x 2^--log2-samples, 64 us) and, side by side \
            in this process, dedisperses --trials DM trials with the subband dedisperser (the \
            search's) and runs the single-pulse search (detrending, normalisation, boxcars up to \
            --max-width, each width normalised) over every one of them. Prints CPU ms per trial \
            for each and their ratio; goal: the single-pulse search costs less than the \
            dedispersion that feeds it (ratio under 1). Build with -c release \
            (scripts/bench-single-pulse.sh).
            """
    )

    @Option(help: "Channels of the simulated filterbank.") var channels: Int = 1024
    @Option(help: "log2 of its spectra.") var log2Samples: Int = 18
    @Option(help: "DM trials dedispersed and searched.") var trials: Int = 64
    @Option(help: "Widest boxcar, seconds.") var maxWidth: Double = 0.1
    @Option(help: "Timed runs (median reported).") var repeats: Int = 3

    func run() throws {
        var o = SimulatedObservation.benchmark(channels: channels, samples: 1 << log2Samples)
        o.bursts = [InjectedBurst(time: 0.5 * o.duration, dm: 100, width: 2e-3, snr: 20)]
        printError("simulating \(channels) channels x 2^\(log2Samples) spectra ...")
        let source = Simulator.spectra(o)
        let weights = try ChannelWeights.measure(source)
        let dedisperser = SubbandDedisperser(source: source, weights: weights)
        let dms = (0..<trials).map { 50 + Double($0) }
        let widths = BoxcarSearch.widths(maxSeconds: maxWidth, sampleTime: o.tsamp)
        let boxcar = BoxcarSearch(widths: widths, threshold: 6, normalisationBlock: Int(1 / o.tsamp))
        var block: DedispersedBlock?
        let dedisperse = try BenchTiming.median(repeats: repeats) { block = try dedisperser.dedisperse(dms: dms, downsample: 1) }.cpu
        var hits = 0
        let search = BenchTiming.median(repeats: repeats) {
            hits = 0
            for i in dms.indices {
                hits += block!.withSeries(i) { boxcar.search($0, sampleTime: o.tsamp, dm: dms[i], dmIndex: i) }.count
            }
        }.cpu
        let d = dedisperse / Double(trials), s = search / Double(trials)
        print(String(format: "%d channels x %d samples, %d DM trials, %d boxcar widths (1 to %d samples); %d hits",
                     channels, o.samples, trials, widths.count, widths.last ?? 1, hits))
        print(String(format: "dedispersion       %8.2f CPU ms per trial", 1000 * d))
        print(String(format: "single-pulse search %7.2f CPU ms per trial", 1000 * s))
        print(String(format: "search / dedispersion = %.2f (goal: under 1): %@", s / d, s < d ? "met" : "not met"))
    }
}
