import ArgumentParser
import Foundation
import PulsarSearch

struct BenchRFICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rfi",
        abstract: "Measure the RFI mask pass and the cleaning against a plain read of the same file.",
        discussion: """
            Simulates an 8-bit filterbank (--channels x 2^--log2-samples, with hot channels, \
            impulses and a drifting carrier), then times, in this process and side by side: reading \
            and unpacking it alone; the mask pass (xunxing rfi: statistics and a Fourier transform \
            of every channel x block cell, at the default --fft-sample-time); the same with every \
            sample transformed (--fft-sample-time 0, as rfifind); and a read through the cleaning (mask applied, \
            clipping). Each is the median of --repeats runs, in MB of filterbank per CPU-second, \
            with its ratio to the read. Goal: the mask pass costs less than reading the file twice \
            (ratio under 2). Build with -c release (scripts/bench-rfi.sh).
            """
    )

    @Option(help: "Channels of the simulated filterbank.") var channels: Int = 1024
    @Option(help: "log2 of its spectra.") var log2Samples: Int = 18
    @Option(help: "Timed runs of each measurement (median reported).") var repeats: Int = 3
    @Option(help: "FFTW planning for the mask's transforms: estimate (as `xunxing rfi` and `search` by default) or measure.")
    var fftRigor: FFTRigor = .estimate
    @Option(help: "The mask's --fft-sample-time (s): samples are summed to it before the periodic test's transforms.")
    var fftSampleTime: Double = RFIOptions().fftSampleTime
    @Option(help: "Threads the mask pass shares its transforms among (default: as `xunxing rfi`, up to 4).") var threads: Int?
    @Option(help: "Directory for the simulated file (removed afterwards).") var workDir: String = NSTemporaryDirectory()

    func run() throws {
        var o = SimulatedObservation.benchmark(channels: channels, samples: 1 << log2Samples)
        o.nbits = 8
        o.interference.narrowbandChannels = [channels / 10, channels / 3]
        o.interference.impulseRate = 1
        o.interference.carrier = DriftingCarrier(startChannel: channels / 5, endChannel: channels / 2, amplitude: 3)
        let path = (workDir as NSString).appendingPathComponent("bench-rfi-\(channels)ch-2^\(log2Samples).fil")
        printError("simulating \(channels) channels x 2^\(log2Samples) spectra ...")
        try Simulator.writeFilterbank(o, to: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let megabytes = Double(o.samples * channels) / 1e6
        let planner = FFTPlanner(rigor: fftRigor)

        func median(_ run: () throws -> Void) rethrows -> (wall: Double, cpu: Double) { try BenchTiming.median(repeats: repeats, run) }
        let read = try median { _ = try BenchSplitCommand.readAll(path) }
        func masker(_ options: RFIOptions) -> RFIMasker {
            var m = RFIMasker(options: options, planner: planner)
            if let threads { m.threads = max(1, threads) }
            return m
        }
        var mask: RFIMask?
        var options = RFIOptions()
        options.fftSampleTime = fftSampleTime
        let masking = try median { mask = try masker(options).measure(try FilterbankReader(path: path)) }
        var everySample = RFIOptions()
        everySample.fftSampleTime = 0
        let full = try median { _ = try masker(everySample).measure(try FilterbankReader(path: path)) }
        let cleaning = try median {
            let cleaned = CleanedSpectra(source: try FilterbankReader(path: path), mask: mask!)
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: 4096 * channels)
            defer { buffer.deallocate() }
            while try cleaned.read(into: buffer, count: 4096) > 0 {}
        }
        print(String(format: "%d channels x %d spectra, 8-bit: %.1f MB; %d blocks of %d spectra; %.1f%% masked",
                     channels, o.samples, megabytes, mask!.blocks, mask!.header.blockSamples, 100 * mask!.fractionMasked))
        print("pass                    wall s   CPU s   MB/CPU-s   CPU / read")
        let factor = options.fftDecimation(sampleTime: o.tsamp)
        print(String(format: "periodic test on sums of %d samples (%.3g ms); 'every sample' transforms each sample, as rfifind", factor, 1e3 * Double(factor) * o.tsamp))
        for (name, t) in [("read (pread + unpack)", read), ("mask (xunxing rfi)", masking), ("mask, every sample", full), ("read through cleaning", cleaning)] {
            print(String(format: "%-22@  %6.2f  %6.2f  %9.0f  %10.2f", name as NSString, t.wall, t.cpu, megabytes / t.cpu, t.cpu / read.cpu))
        }
        let ratio = masking.cpu / read.cpu
        print(String(format: "mask pass = %.2f x the read (goal: under 2, i.e. less than reading the file twice): %@",
                     ratio, ratio < 2 ? "met" : "not met"))
    }
}
