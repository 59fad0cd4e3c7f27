import ArgumentParser
import Foundation
import PulsarSearch
import WorkUnits

struct BenchSplitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "split",
        abstract: "Measure the splitter: dedispersion and payload writing, in MB/s of filterbank, and its peak memory.",
        discussion: """
            Build with `swift build -c release` first (or run scripts/bench-split.sh). For each \
            --log2-samples it simulates a filterbank (noise and one pulsar; simulation is not \
            timed), measures reading and unpacking the whole file alone (the I/O floor), then \
            splits it as the coordinator does (the same PayloadSplitter: subband dedispersion into \
            a spill file, then 8-bit payloads of the standard preset) and reports MB of filterbank \
            per second and per CPU second (user + system, which a busy shared machine disturbs \
            less), the ratio to the I/O floor, and the peak resident memory of the split \
            (VmHWM, reset before each split). The ratios between lengths show whether time grows \
            linearly and memory stays flat. Last, the direct (brute-force) dedispersion rate on a \
            short slice, beside the subband rate on the same slice. Files are read from the page \
            cache (just written), so the floor is memory, not disk.
            """
    )

    @Option(name: .customLong("log2-samples"), parsing: .upToNextOption, help: "log2 of the spectra of each simulated file.")
    var log2Samples: [Int] = [18, 20]
    @Option(help: "Channels.") var channels: Int = 1024
    @Option(help: "Bottom of the band, MHz.") var bandLow: Double = 1200
    @Option(help: "Top of the band, MHz.") var bandHigh: Double = 1500
    @Option(help: "Sample time, s.") var tsamp: Double = 64e-6
    @Option(help: "DM trials (the first N of the DDplan-style plan from DM 0).") var dmTrials: Int = 1000
    @Option(help: "log2 of the samples of the slice for the brute-force comparison.") var log2Slice: Int = 13
    @Option(help: "Directory for the simulated files and payloads (default: a new temporary one, removed at the end).")
    var workDir: String?
    @Flag(help: "Keep the work directory (and reuse simulated files already there).") var keep = false

    func run() throws {
        let fm = FileManager.default
        let dir = workDir ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("xunxing-bench-split-\(getpid())")
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { if !keep { try? fm.removeItem(atPath: dir) } }

        let foff = -(bandHigh - bandLow) / Double(channels)
        var o = SimulatedObservation()
        o.channels = channels
        o.fch1 = bandHigh + foff / 2
        o.foff = foff
        o.tsamp = tsamp
        o.nbits = 8
        o.pulsars = [InjectedPulsar(period: 0.0123, dm: 50, dutyCycle: 0.05, snr: 20)]
        let geometry = BandGeometry(
            channelFrequencies: (0..<channels).map { o.fch1 + Double($0) * foff }, sampleTime: tsamp)
        let full = DMPlan(geometry: geometry, dmMin: 0, dmMax: 10_000)
        let plan = DMPlan(trials: Array(full.trials.prefix(dmTrials)))
        let preset = WorkUnitPreset(
            name: "standard", summary: "as workunits/standard.json", targetCost: 1800, deadlineSeconds: 604_800)
        let stages = plan.stages.map { "\($0.trials.count) at downsample \($0.downsample)" }.joined(separator: ", ")
        print(String(format: "band %.1f-%.1f MHz, %d channels, tsamp %.0f us, 8-bit; %d DM trials %.2f-%.2f pc cm^-3",
            bandLow, bandHigh, channels, tsamp * 1e6, plan.trials.count, plan.trials.first!.dm, plan.trials.last!.dm)
            + " (\(stages))")
        print("MB = 10^6 bytes of filterbank data; read = pread + unpack to Float alone; wall and CPU (user+system) seconds;")
        print("/read = split MB/CPU-s over read MB/CPU-s; dedisp and payload = wall s of the two phases; RSS = peak of the split")
        print("spectra      file MB  read MB/s  read MB/CPU-s  split s  CPU s  MB/s  MB/CPU-s  /read  dedisp s  payload s  units  payload MB  peak RSS MB")

        var rows: [(time: Double, rate: Double, rss: Double)] = []
        for log2 in log2Samples {
            o.samples = 1 << log2
            let path = (dir as NSString).appendingPathComponent("bench-\(channels)ch-2^\(log2).fil")
            let expected = o.samples * channels
            if !(keep && ((try? fm.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0) > expected) {
                printError("simulating 2^\(log2) spectra x \(channels) channels ...")
                try Simulator.writeFilterbank(o, to: path)
            }
            let megabytes = Double(expected) / 1e6
            let (readTime, readCPU) = try Self.readAll(path)

            let payloadDir = (dir as NSString).appendingPathComponent("payloads-2^\(log2)")
            try? fm.removeItem(atPath: payloadDir)
            try fm.createDirectory(atPath: payloadDir, withIntermediateDirectories: true)
            MemoryProbe.resetPeak()
            let start = DispatchTime.now().uptimeNanoseconds
            let cpuStart = CPUClock.processSeconds()
            let reader = try FilterbankReader(path: path)
            let units = WorkUnitPlanner.plan(
                dmPlan: plan, spectra: reader.spectrumCount, sampleTime: tsamp, accelMax: preset.accelMax, preset: preset)
            let splitter = PayloadSplitter(
                datasetID: "bench", dmPlan: plan, units: units, preset: preset, search: preset.searchParameters)
            var timings = SplitTimings()
            var counter = 0
            let payloads = try splitter.write(
                source: reader, weights: try ChannelWeights.measure(reader), directory: payloadDir,
                makeID: { counter += 1; return "unit\(counter)" }, timings: &timings)
            let splitTime = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let splitCPU = CPUClock.processSeconds() - cpuStart
            let peak = MemoryProbe.peakMB()
            let payloadBytes = payloads.reduce(0) { $0 + ((try? fm.attributesOfItem(atPath: $1.path)[.size] as? NSNumber)?.intValue ?? 0) }
            try? fm.removeItem(atPath: payloadDir)
            let rate = megabytes / splitCPU
            print(String(format: "2^%-2d %7d  %7.1f  %9.0f  %13.0f  %7.1f  %5.1f  %4.1f  %8.2f  %5.3f  %8.1f  %9.1f  %5d  %10.1f  %11.1f",
                log2, o.samples, megabytes, megabytes / readTime, megabytes / readCPU, splitTime, splitCPU,
                megabytes / splitTime, rate, readCPU / splitCPU, timings.dedispersion, timings.payloads, payloads.count,
                Double(payloadBytes) / 1e6, peak))
            rows.append((splitCPU, rate, peak))
        }
        if rows.count >= 2, let first = rows.first, let last = rows.last {
            let l0 = log2Samples.first!, l1 = log2Samples.last!
            print(String(format: "2^%d / 2^%d: length %.0f x, split CPU time %.2f x, MB/CPU-s %.2f x, peak RSS %.2f x",
                l1, l0, pow(2, Double(l1 - l0)), last.time / first.time, last.rate / first.rate, last.rss / first.rss))
        }
        try bruteForce(observation: o, plan: plan, dir: dir)
    }

    /// Direct dedispersion (one subband per channel) against the subband dedisperser on the first
    /// 2^log2Slice spectra of the last file, both over every DM trial.
    private func bruteForce(observation: SimulatedObservation, plan: DMPlan, dir: String) throws {
        var o = observation
        o.samples = 1 << log2Slice
        let source = Simulator.spectra(o)
        let weights = try ChannelWeights.measure(source)
        let dms = plan.trials.map(\.dm)
        let megabytes = Double(o.samples * channels) / 1e6
        func time(_ d: SubbandDedisperser) throws -> Double {
            let start = CPUClock.processSeconds()
            try d.stream(dms: dms, downsample: 1) { _ in }
            return CPUClock.processSeconds() - start
        }
        let subband = SubbandDedisperser(source: source, weights: weights)
        subband.chunkLength = 8192
        let direct = SubbandDedisperser(source: source, weights: weights, subbands: channels)
        direct.chunkLength = 8192
        let ts = try time(subband), td = try time(direct)
        print(String(format: "2^%d-spectra slice in memory, %d DMs: direct %.2f MB/CPU-s, subband (%d subbands) %.1f MB/CPU-s = %.1f x direct",
            log2Slice, dms.count, megabytes / td, subband.subbandCount, megabytes / ts, td / ts))
    }

    /// Wall and CPU seconds to read and unpack the whole file, 4096 spectra at a time.
    static func readAll(_ path: String) throws -> (wall: Double, cpu: Double) {
        let reader = try FilterbankReader(path: path)
        let block = 4096
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: block * reader.header.nchans)
        defer { buffer.deallocate() }
        let start = DispatchTime.now().uptimeNanoseconds
        let cpu = CPUClock.processSeconds()
        while try reader.read(into: buffer, count: block) > 0 {}
        return (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, CPUClock.processSeconds() - cpu)
    }
}

/// Peak resident memory of this process, from /proc/self/status (Linux).
enum MemoryProbe {
    /// Resets VmHWM to the current VmRSS (Linux 4.0+, `echo 5 > /proc/self/clear_refs`).
    static func resetPeak() {
        guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return }
        try? handle.write(contentsOf: Data("5".utf8))
        try? handle.close()
    }

    /// VmHWM in MB (10^6 bytes); NaN where unavailable.
    static func peakMB() -> Double { field("VmHWM") }

    static func field(_ name: String) -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return .nan }
        for line in status.split(separator: "\n") where line.hasPrefix(name + ":") {
            let kB = line.split(separator: " ").compactMap { Double($0) }.first ?? .nan
            return kB * 1024 / 1e6
        }
        return .nan
    }
}

extension SimulatedObservation {
    /// The benchmarks' filterbank: `channels` channels over 300 MHz down from 1500 MHz, `samples`
    /// spectra of `sampleTime` (64 us unless said), noise only until the caller adds signals.
    static func benchmark(channels: Int, samples: Int, sampleTime: Double = 64e-6) -> SimulatedObservation {
        var o = SimulatedObservation()
        o.channels = channels
        o.fch1 = 1500
        o.foff = -300.0 / Double(channels)
        o.tsamp = sampleTime
        o.samples = samples
        return o
    }
}
