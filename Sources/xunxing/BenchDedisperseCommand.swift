import ArgumentParser
import Foundation
import PulsarSearch

struct BenchDedisperseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dedisperse",
        abstract: "Measure subband dedispersion in MB of filterbank per CPU-second: the AVX2 kernel, the plain loops before it, and the read floor.",
        discussion: """
            Simulates an 8-bit filterbank (--channels, 2^--log2-samples spectra of 64 us, \
            1200-1500 MHz; not timed), plans --dm-trials DM trials as the splitter does (the first N \
            of the DDplan-style plan from DM 0), measures the channel weights (not timed), then \
            times, in this process and side by side: reading and unpacking the file alone (the \
            floor), and streaming every DM trial through the subband dedisperser with the vector \
            kernel and with the reference loops and 16384-sample chunks (the code before it), \
            output discarded. Each is \
            the median of --repeats runs. With --work-dir and --keep the file and its DM list \
            (dms.txt) stay for a peer's run (scripts/bench-dedisperse.sh times `your`'s \
            dedispersion on them). Build with -c release.
            """
    )

    @Option(help: "Channels.") var channels: Int = 1024
    @Option(help: "log2 of the spectra.") var log2Samples: Int = 18
    @Option(help: "DM trials (the first N of the plan from DM 0).") var dmTrials: Int = 1000
    @Option(help: "Subbands (default: the dedisperser's choice, about 2 sqrt(channels)).") var subbands: Int?
    @Option(help: "Timed runs of each measurement (median reported).") var repeats: Int = 3
    @Option(help: "Samples per chunk of the dedisperser (its chunkLength).") var chunk: Int?
    @Option(help: "Directory for the simulated file (default: a temporary one).") var workDir: String?
    @Flag(help: "Keep the file and dms.txt in --work-dir.") var keep = false

    func run() throws {
        let fm = FileManager.default
        let dir = workDir ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("xunxing-bench-dedisperse-\(getpid())")
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { if !keep { try? fm.removeItem(atPath: dir) } }
        var o = SimulatedObservation.benchmark(channels: channels, samples: 1 << log2Samples)
        o.nbits = 8
        let path = (dir as NSString).appendingPathComponent("bench-dedisperse-\(channels)ch-2^\(log2Samples).fil")
        if !(keep && fm.fileExists(atPath: path)) {
            printError("simulating \(channels) channels x 2^\(log2Samples) spectra ...")
            try Simulator.writeFilterbank(o, to: path)
        }
        let reader = try FilterbankReader(path: path)
        let geometry = BandGeometry(channelFrequencies: (0..<channels).map(reader.channelFrequency), sampleTime: reader.sampleTime)
        let plan = DMPlan(trials: Array(DMPlan(geometry: geometry, dmMin: 0, dmMax: 10_000).trials.prefix(dmTrials)))
        let dms = plan.trials.map(\.dm)
        try dms.map { String($0) }.joined(separator: "\n").write(toFile: (dir as NSString).appendingPathComponent("dms.txt"), atomically: true, encoding: .utf8)
        let weights = try ChannelWeights.measure(reader)
        let megabytes = Double(reader.spectrumCount * channels) / 1e6

        func median(_ run: () throws -> Double) rethrows -> Double {
            var cpus: [Double] = []
            for _ in 0..<max(1, repeats) { cpus.append(try run()) }
            return cpus.sorted()[cpus.count / 2]
        }
        let read = try median { try BenchSplitCommand.readAll(path).cpu }
        var timed: [(SubbandDedisperser.Kernel, Double, Int)] = []
        for kernel in [SubbandDedisperser.Kernel.vector, .reference] {
            var nsub = 0
            let cpu = try median {
                let source = try FilterbankReader(path: path)
                let d = SubbandDedisperser(source: source, weights: weights, subbands: subbands)
                d.kernel = kernel
                // The reference is the code before the vector kernel: its loops and its chunk length.
                if kernel == .reference { d.chunkLength = 16384 }
                if let chunk { d.chunkLength = chunk }
                nsub = d.subbandCount
                let start = BenchSplitCommand.cpuSeconds()
                try d.stream(dms: dms, downsample: 1) { _ in }
                return BenchSplitCommand.cpuSeconds() - start
            }
            timed.append((kernel, cpu, nsub))
        }
        print(String(format: "%d channels x %d spectra, 8-bit, %.1f MB; %d DM trials %.2f-%.2f, %d subbands; CPU seconds, medians of %d",
                     channels, reader.spectrumCount, megabytes, dms.count, dms.first!, dms.last!, timed[0].2, repeats))
        print("pass                                CPU s   MB/CPU-s")
        print("read (pread + unpack), the floor".leftAligned(34) + String(format: " %7.3f %10.0f", read, megabytes / read))
        for (kernel, cpu, _) in timed {
            print("dedisperse, \(kernel.rawValue) kernel".leftAligned(34) + String(format: " %7.3f %10.1f", cpu, megabytes / cpu))
        }
        let vector = timed[0].1, reference = timed[1].1
        print(String(format: "vector / reference: %.2fx faster; vector = %.1f%% of the read floor's rate; goal >= 250 MB/CPU-s: %@",
                     reference / vector, 100 * read / vector, megabytes / vector >= 250 ? "met" : "not met"))
    }
}
