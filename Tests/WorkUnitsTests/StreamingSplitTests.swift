import Foundation
import PulsarSearch
import Testing
@testable import WorkUnits
import XunxingProtocol

@Suite("Streaming split")
struct StreamingSplitTests {
    @Test("a payload written piece by piece is byte for byte the one written from whole series", arguments: [8, 16])
    func streamedPayloadIsIdentical(bits: Int) throws {
        let dir = try Fixtures.temporaryDirectory("streamed")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let samples = 20_001, series = 3
        var data: [Float] = []
        for i in 0..<series { data += Fixtures.noise(count: samples, mean: Float(i) * 7, sigma: 2, seed: UInt64(i + 20)) }
        data[5] = 1e5  // an outlier, so the robust estimate takes more than one pass
        let header = Fixtures.header(series: series, samples: samples)
        try Fixtures.write(header, bits: bits, data: data, to: dir + "/whole.xxwu")
        try data.withUnsafeBufferPointer { all in
            try WorkUnitPayload.write(header: header, bits: bits, seriesCount: series, scan: { i, visit in
                var start = 0
                while start < samples {  // uneven pieces
                    let n = min(777 + start % 5, samples - start)
                    guard try visit(UnsafeBufferPointer(rebasing: all[(i * samples + start)..<(i * samples + start + n)])) else { return }
                    start += n
                }
            }, to: dir + "/pieces.xxwu")
        }
        let whole = try Data(contentsOf: URL(fileURLWithPath: dir + "/whole.xxwu"))
        let pieces = try Data(contentsOf: URL(fileURLWithPath: dir + "/pieces.xxwu"))
        #expect(whole == pieces)
    }

    @Test("a series shorter than the header says is refused")
    func shortSeriesRefused() throws {
        let dir = try Fixtures.temporaryDirectory("short")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let header = Fixtures.header(series: 1, samples: 100)
        let data = [Float](repeating: 1, count: 99)
        let path = dir + "/short.xxwu"
        #expect(throws: PayloadError.invalidArgument(
            file: path, field: "series(0).count", value: "99", expected: "samplesPerSeries = 100")) {
            try data.withUnsafeBufferPointer { piece in
                try WorkUnitPayload.write(header: header, bits: 8, seriesCount: 1, scan: { _, visit in _ = try visit(piece) }, to: path)
            }
        }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    /// 32 channels of 8 MHz below 1500 MHz, 0.5 ms samples, a 50 ms pulsar at DM 40.
    static func pulsarObservation(samples: Int) -> SimulatedObservation {
        var o = SimulatedObservation()
        o.channels = 32
        o.fch1 = 1500
        o.foff = -8
        o.tsamp = 5e-4
        o.samples = samples
        o.pulsars = [InjectedPulsar(period: 0.05, dm: 40, snr: 30)]
        return o
    }

    /// The bytes of a payload with `header` written the in-memory way from `data` (a file in
    /// `dir`, removed again).
    static func referenceBytes(_ header: WorkUnitHeader, bits: Int, data: [Float], in dir: String) throws -> Data {
        let reference = dir + "/reference.xxwu"
        defer { try? FileManager.default.removeItem(atPath: reference) }
        try Fixtures.write(header, bits: bits, data: data, to: reference)
        return try Data(contentsOf: URL(fileURLWithPath: reference))
    }

    @Test("the splitter's payloads hold the dedispersed series of their DMs, and no spill file is left",
          arguments: [false, true])
    func splitterMatchesDedispersion(piecewise: Bool) throws {
        let dir = try Fixtures.temporaryDirectory("split")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let o = Self.pulsarObservation(samples: 30_000)
        let source = Simulator.spectra(o)
        let weights = try ChannelWeights.measure(source)
        // Up to DM 200 so the plan has two downsampling factors (x2 from DM 156 on this band).
        let plan = DMPlan(geometry: source.geometry, dmMin: 0, dmMax: 200)
        let preset = WorkUnitPreset(name: "t", summary: "", targetCost: 0.004, deadlineSeconds: 60)
        let units = WorkUnitPlanner.plan(
            dmPlan: plan, spectra: source.spectrumCount, sampleTime: o.tsamp, accelMax: 0, preset: preset)
        #expect(units.count > 2)
        #expect(Set(units.map(\.downsample)).count > 1)
        var splitter = PayloadSplitter(datasetID: "ds", dmPlan: plan, units: units, preset: preset, search: preset.searchParameters)
        splitter.chunkLength = 1000  // many chunks
        // One DM per pass: a pass then holds exactly one unit (the nominal DMs of the subband
        // dedisperser depend on the lowest DM of a pass, so the reference must dedisperse the same).
        splitter.memoryBudget = 1000 * 4
        // Series read back whole (every one here is short enough), or piece by piece as longer ones are.
        if piecewise { splitter.heldSamples = 0 }
        var counter = 0
        var timings = SplitTimings()
        let payloads = try splitter.write(
            source: source, weights: weights, directory: dir, makeID: { counter += 1; return "u\(counter)" },
            timings: &timings)
        #expect(payloads.map(\.unit) == units)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == payloads.map { ($0.path as NSString).lastPathComponent }.sorted())

        // Reference: each unit's DMs dedispersed whole, in memory, and written the old way.
        let dedisperser = SubbandDedisperser(source: source, weights: weights)
        dedisperser.chunkLength = 1000
        for payload in payloads {
            let unit = payload.unit
            let block = try dedisperser.dedisperse(dms: unit.dmTrials.map { plan.trials[$0].dm }, downsample: unit.downsample)
            let (header, _) = try WorkUnitPayload.read(path: payload.path)
            #expect(header.samplesPerSeries == block.length)
            #expect(header.dmIndices == Array(unit.dmTrials))
            let b = try Data(contentsOf: URL(fileURLWithPath: payload.path))
            #expect(try Self.referenceBytes(header, bits: preset.bits, data: block.data, in: dir) == b, "unit \(payload.sequence)")
        }
    }

    @Test("several units to a pass: series held whole and series read piece by piece give the same payloads")
    func heldSeriesAcrossUnits() throws {
        let dir = try Fixtures.temporaryDirectory("split-held")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let o = Self.pulsarObservation(samples: 20_000)
        let source = Simulator.spectra(o)
        let weights = try ChannelWeights.measure(source)
        let plan = DMPlan(geometry: source.geometry, dmMin: 0, dmMax: 120, maxDownsample: 1)
        let preset = WorkUnitPreset(name: "t", summary: "", targetCost: 0.002, deadlineSeconds: 60)
        let units = WorkUnitPlanner.plan(dmPlan: plan, spectra: source.spectrumCount, sampleTime: o.tsamp, accelMax: 0, preset: preset)
        #expect(units.count >= 3, "\(units.count) units")
        func split(held: Bool) throws -> [Data] {
            let out = dir + (held ? "/held" : "/pieces")
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            var splitter = PayloadSplitter(datasetID: "ds", dmPlan: plan, units: units, preset: preset, search: preset.searchParameters)
            splitter.chunkLength = 1000
            if !held { splitter.heldSamples = 0 }
            // The default budget: every unit in one pass, so the units' series sit side by side in one spill file.
            let dedisperser = SubbandDedisperser(source: source, weights: weights)
            #expect(splitter.fittingUnits(units[...], dedisperser: dedisperser, downsample: 1) == units.count)
            var counter = 0, timings = SplitTimings()
            let payloads = try splitter.write(
                source: source, weights: weights, directory: out, makeID: { counter += 1; return "u\(counter)" }, timings: &timings)
            return try payloads.map { try Data(contentsOf: URL(fileURLWithPath: $0.path)) }
        }
        let held = try split(held: true), pieces = try split(held: false)
        #expect(held.count == units.count && held == pieces)

        // Reference: every DM of the plan dedispersed in one pass in memory (the nominal DMs
        // depend on a pass's DMs), each unit's series taken from their place in it.
        let dedisperser = SubbandDedisperser(source: source, weights: weights)
        dedisperser.chunkLength = 1000
        let block = try dedisperser.dedisperse(dms: plan.trials.map(\.dm), downsample: 1)
        for (k, unit) in units.enumerated() {
            let (header, _) = try WorkUnitPayload.read(path: dir + "/held/\(k)-u\(k + 1).xxwu")
            let slice = Array(block.data[(unit.dmTrials.lowerBound * block.length)..<(unit.dmTrials.upperBound * block.length)])
            #expect(try Self.referenceBytes(header, bits: preset.bits, data: slice, in: dir) == held[k], "unit \(k)")
        }
    }

    @Test("a pass takes the most units whose dedispersion memory fits the budget, and at least one")
    func passesFitTheMemoryBudget() throws {
        var o = SimulatedObservation()
        o.channels = 64
        o.fch1 = 1500
        o.foff = -4
        o.tsamp = 1e-4
        o.samples = 8192
        let source = Simulator.spectra(o)
        let weights = try ChannelWeights.measure(source)
        let plan = DMPlan(geometry: source.geometry, dmMin: 0, dmMax: 300, maxDownsample: 1)
        #expect(plan.trials.count > 100 && plan.trials.allSatisfy { $0.downsample == 1 })
        let preset = WorkUnitPreset(name: "t", summary: "", targetCost: 0.0005, deadlineSeconds: 60)
        let units = WorkUnitPlanner.plan(dmPlan: plan, spectra: source.spectrumCount, sampleTime: o.tsamp, accelMax: 0, preset: preset)
        #expect(units.count >= 6, "\(units.count) units")
        var splitter = PayloadSplitter(datasetID: "ds", dmPlan: plan, units: units, preset: preset, search: preset.searchParameters)
        splitter.chunkLength = 512
        let dedisperser = SubbandDedisperser(source: source, weights: weights)
        dedisperser.chunkLength = 512
        // Bytes one pass over the first n units holds: they grow with every unit (more DMs, more
        // nominal DMs, longer shifts), the subband series most.
        func bytes(_ n: Int) -> Int {
            let dms = units.prefix(n).flatMap { $0.dmTrials.map { plan.trials[$0].dm } }
            return 4 * (dedisperser.workingFloats(dms: dms, downsample: 1) + dms.count * 512)
        }
        #expect(bytes(units.count) > 2 * bytes(1))
        for n in [1, 2, units.count / 2, units.count - 1, units.count] {
            splitter.memoryBudget = bytes(n)
            #expect(splitter.fittingUnits(units[...], dedisperser: dedisperser, downsample: 1) == n, "budget for \(n)")
            splitter.memoryBudget = bytes(n) - 1
            #expect(splitter.fittingUnits(units[...], dedisperser: dedisperser, downsample: 1) == max(1, n - 1), "just under \(n)")
        }
    }
}
