import ArgumentParser
import Foundation
import PulsarSearch

struct BenchDedisperseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dedisperse",
        abstract: "Measure subband dedispersion in MB of filterbank per CPU-second: the tree kernel, the flat AVX2 sums, the plain loops before them, and the read floor.",
        discussion: """
            Simulates an 8-bit filterbank (--channels, 2^--log2-samples spectra of 64 us, \
            1200-1500 MHz; not timed), plans --dm-trials DM trials as the splitter does (the first N \
            of the DDplan-style plan from DM 0), measures the channel weights (not timed), then \
            times, in this process and side by side: reading and unpacking the file alone (the \
            floor), and streaming every DM trial through the subband dedisperser with the tree \
            kernel (shared partial sums, --channel-radices, --subband-radices, --tile), with the \
            flat vector sums, and with the reference loops and 16384-sample chunks (the code \
            before issue 18), output discarded; it prints each kernel's planned additions per \
            sample. Each is \
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
    @Option(help: "Samples per chunk of the tree and vector kernels (the dedisperser's chunkLength; the reference keeps 16384).") var chunk: Int?
    @Option(help: "Chunks each subband series' buffer holds past the largest shift (the dedisperser's laps).") var laps: Int?
    @Option(help: "The tree kernel's hierarchy of channels in a subband, comma-separated (e.g. 4 or 2,2).") var channelRadices: String?
    @Option(help: "The tree kernel's hierarchy of subbands, comma-separated (e.g. 4,4 or 8).") var subbandRadices: String?
    @Option(help: "The tree kernel's output samples per pass over a group's DMs.") var tile: Int?
    @Option(help: "The tree kernel's samples per pass over a subband's channels.") var channelTile: Int?
    @Option(help: "Kernels to time, comma-separated: tree, vector, reference.") var kernels = "tree,vector,reference"
    @Option(help: """
        More tree-kernel settings to time against the others, in the same rounds: variants separated \
        by ';', each 'name=value' pairs separated by ',' (chunk, laps, tile, channel-tile, subbands, \
        channel-radices, subband-radices; radices joined by '.'), e.g. 'chunk=1024,laps=8;subbands=32,channel-radices=4.4'.
        """) var variants: String?
    @Option(help: "Directory for the simulated file (default: a temporary one).") var workDir: String?
    @Flag(help: "Keep the file and dms.txt in --work-dir.") var keep = false

    static let variantNames = ["chunk", "laps", "tile", "channel-tile", "subbands", "channel-radices", "subband-radices"]

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

        func radices(_ text: String?, _ name: String) throws -> [Int]? {
            guard let text else { return nil }
            let values = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard values.allSatisfy({ ($0 ?? 0) >= 1 }) else {
                throw ValidationError("--\(name) \(text): expected comma-separated whole numbers >= 1")
            }
            return values.map { $0! }
        }
        let chosenChannelRadices = try radices(channelRadices, "channel-radices")
        let chosenSubbandRadices = try radices(subbandRadices, "subband-radices")
        let chosenKernels = try kernels.split(separator: ",").map { name in
            guard let k = SubbandDedisperser.Kernel(rawValue: String(name)) else {
                throw ValidationError("--kernels: unknown kernel '\(name)' (tree, vector, reference)")
            }
            return k
        }
        func dedisperser(_ source: SpectrumSource, _ kernel: SubbandDedisperser.Kernel, subbands: Int? = nil) -> SubbandDedisperser {
            let d = SubbandDedisperser(source: source, weights: weights, subbands: subbands ?? self.subbands)
            d.kernel = kernel
            // The reference is the code before issue 18: its loops and its chunk length.
            if kernel == .reference {
                d.chunkLength = 16384
            } else if let chunk {
                d.chunkLength = chunk
            }
            if let laps { d.laps = laps }
            if let chosenChannelRadices { d.channelRadices = chosenChannelRadices }
            if let chosenSubbandRadices { d.subbandRadices = chosenSubbandRadices }
            if let tile { d.tile = tile }
            if let channelTile { d.channelTile = channelTile }
            return d
        }
        // Every pass is timed once per round, the rounds interleaved, so a machine that speeds up
        // or slows down during the run moves them all alike; medians of the rounds are reported.
        struct Pass {
            let label: String
            let kernel: SubbandDedisperser.Kernel
            var settings: [String: [Int]] = [:]
            var cpus: [Double] = []
        }
        var passes = chosenKernels.map { Pass(label: "dedisperse, \($0.rawValue) kernel", kernel: $0) }
        for text in (variants ?? "").split(separator: ";") {
            var settings: [String: [Int]] = [:]
            for pair in text.split(separator: ",") {
                let parts = pair.split(separator: "=").map { $0.trimmingCharacters(in: .whitespaces) }
                let values = parts.count == 2 ? parts[1].split(separator: ".").map { Int($0) } : []
                guard parts.count == 2, Self.variantNames.contains(parts[0]), !values.isEmpty, values.allSatisfy({ ($0 ?? 0) >= 1 }) else {
                    throw ValidationError("--variants '\(text)': expected name=value pairs of \(Self.variantNames.joined(separator: ", ")) (whole numbers >= 1; radices joined by '.')")
                }
                settings[parts[0]] = values.map { $0! }
            }
            passes.append(Pass(label: "tree [\(text)]", kernel: .tree, settings: settings))
        }
        func configured(_ pass: Pass, _ source: SpectrumSource) -> SubbandDedisperser {
            let d = dedisperser(source, pass.kernel, subbands: pass.settings["subbands"]?.first ?? subbands)
            if let v = pass.settings["chunk"]?.first { d.chunkLength = v }
            if let v = pass.settings["laps"]?.first { d.laps = v }
            if let v = pass.settings["tile"]?.first { d.tile = v }
            if let v = pass.settings["channel-tile"]?.first { d.channelTile = v }
            if let v = pass.settings["channel-radices"] { d.channelRadices = v }
            if let v = pass.settings["subband-radices"] { d.subbandRadices = v }
            return d
        }
        var reads: [Double] = []
        for _ in 0..<max(1, repeats) {
            reads.append(try BenchTiming.median(repeats: 1) { _ = try BenchSplitCommand.readAll(path) }.cpu)
            for k in passes.indices {
                let pass = passes[k]
                passes[k].cpus.append(try BenchTiming.median(repeats: 1) {
                    try configured(pass, try FilterbankReader(path: path)).stream(dms: dms, downsample: 1) { _ in }
                }.cpu)
            }
        }
        func median(_ x: [Double]) -> Double { x.sorted()[x.count / 2] }
        let read = median(reads)
        let timed = passes.map { (pass: $0, cpu: median($0.cpus)) }
        let probe = dedisperser(reader, .tree)
        print(String(format: "%d channels x %d spectra, 8-bit, %.1f MB; %d DM trials %.2f-%.2f, %d subbands; CPU seconds, medians of %d",
                     channels, reader.spectrumCount, megabytes, dms.count, dms.first!, dms.last!, probe.subbandCount, repeats))
        print("pass                                CPU s   MB/CPU-s   additions/spectrum (channels + subbands)")
        print("read (pread + unpack), the floor".leftAligned(34) + String(format: " %7.3f %10.0f", read, megabytes / read))
        for (pass, cpu) in timed {
            let adds = configured(pass, reader).plannedAdditions(dms: dms, downsample: 1)
            print(pass.label.leftAligned(34) + String(format: " %7.3f %10.1f %12.0f (%.0f + %.0f)", cpu, megabytes / cpu, adds.channels + adds.subbands, adds.channels, adds.subbands))
        }
        if let reference = timed.first(where: { $0.pass.kernel == .reference })?.cpu {
            for (pass, cpu) in timed where pass.kernel != .reference {
                print(String(format: "%@ / reference: %.2fx faster; %.1f%% of the read floor's rate",
                             pass.label, reference / cpu, 100 * read / cpu))
            }
        }
        if let best = timed.map(\.cpu).min() {
            print(String(format: "fastest: %.1f MB/CPU-s; goal >= 250 MB/CPU-s: %@", megabytes / best, megabytes / best >= 250 ? "met" : "not met"))
        }
    }
}
