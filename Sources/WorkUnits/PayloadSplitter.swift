import PulsarSearch
import XunxingProtocol

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One payload written by ``PayloadSplitter``.
public struct SplitPayload: Sendable, Equatable {
    /// Position in the plan (0, 1, ...); also the start of the file name.
    public var sequence: Int
    public var workUnitID: String
    public var unit: PlannedWorkUnit
    public var path: String
    /// Seconds per sample of the unit's series.
    public var sampleTime: Double
    public var samplesPerSeries: Int
}

/// Seconds spent in the two phases of a split, for the log and the benchmark.
public struct SplitTimings: Sendable, Equatable {
    /// Reading, dedispersing and spilling the series.
    public var dedispersion = 0.0
    /// Reading the spilled series back, quantising and writing payloads.
    public var payloads = 0.0

    public init() {}
}

/// Why a split could not be done (besides the reader's `FormatError`s and the encoder's
/// `PayloadError`s).
public enum SplitError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A system call on the spill file of dedispersed series failed.
    case spill(file: String, operation: String, reason: String)

    public var description: String {
        switch self {
        case let .spill(file, operation, reason): return "\(file): cannot \(operation) the spill file: \(reason)"
        }
    }
}

/// Cuts an observation into work-unit payloads with memory that does not depend on its length.
///
/// Units are taken a batch at a time: consecutive units of one downsampling factor, their DMs
/// dedispersed together in one streaming pass over the filterbank (``SubbandDedisperser/stream``:
/// a chunk of input, the subband series of the last chunks and the band's largest delay, and one
/// chunk of output per DM).
/// Each chunk of each DM's series is written to its place in an unlinked spill file on disk; the
/// unit's payload is then written from the spill file, piece by piece. Memory is the
/// dedisperser's working floats (``SubbandDedisperser/workingFloats(dms:downsample:)``: channel
/// rows and subband series) plus `DMs x chunkLength` floats of output, and a batch takes no more
/// units than fit `memoryBudget` (writing a payload holds one series more); the whole series only ever
/// exist on disk (4 bytes x samples x DMs of a batch, in the payload directory).
public struct PayloadSplitter {
    public var datasetID: String
    public var dmPlan: DMPlan
    public var units: [PlannedWorkUnit]
    public var preset: WorkUnitPreset
    public var search: SpectralSearchParameters
    /// Output samples per dedispersion chunk.
    public var chunkLength = 8192
    /// Bytes a pass may hold (the dedisperser's working floats and a chunk of output per DM): more
    /// DMs than fit are dedispersed in another pass.
    public var memoryBudget = 512 << 20
    /// Samples read back from the spill file at a time, for series longer than `heldSamples`.
    static let pieceSamples = 1 << 16
    /// Series up to this long (16 MB of Float) are read back whole, once for the encoder's fit and
    /// once to write; longer ones piece by piece, once per pass of the fit.
    var heldSamples = 1 << 22

    public init(
        datasetID: String, dmPlan: DMPlan, units: [PlannedWorkUnit], preset: WorkUnitPreset,
        search: SpectralSearchParameters
    ) {
        self.datasetID = datasetID
        self.dmPlan = dmPlan
        self.units = units
        self.preset = preset
        self.search = search
    }

    /// How many of `candidates` (at least 1) one pass can take within `memoryBudget`: the
    /// dedisperser's working memory grows with the DMs (more nominal DMs, longer subband shifts),
    /// so the largest prefix that fits is found by bisection.
    func fittingUnits(_ candidates: ArraySlice<PlannedWorkUnit>, dedisperser: SubbandDedisperser, downsample: Int) -> Int {
        func fits(_ n: Int) -> Bool {
            let dms = candidates.prefix(n).flatMap { $0.dmTrials.map { dmPlan.trials[$0].dm } }
            let floats = dedisperser.workingFloats(dms: dms, downsample: downsample) + dms.count * chunkLength
            return floats * MemoryLayout<Float>.size <= memoryBudget
        }
        var low = 1, high = candidates.count
        if fits(high) { return high }
        while high - low > 1 {
            let middle = (low + high) / 2
            if fits(middle) { low = middle } else { high = middle }
        }
        return low
    }

    /// Writes every unit's payload into `directory` as `<sequence>-<id>.xxwu`, ids from `makeID`.
    public func write(
        source: SpectrumSource, weights: ChannelWeights, directory: String, makeID: () -> String,
        timings: inout SplitTimings
    ) throws -> [SplitPayload] {
        let dedisperser = SubbandDedisperser(source: source, weights: weights)
        dedisperser.chunkLength = chunkLength
        let piece = UnsafeMutableBufferPointer<Float>.allocate(capacity: Self.pieceSamples)
        defer { piece.deallocate() }
        let perPass = max(1, memoryBudget / max(1, chunkLength * MemoryLayout<Float>.size))
        var written: [SplitPayload] = []
        var index = 0
        while index < units.count {
            let downsample = units[index].downsample
            var end = index
            var trials = 0
            while end < units.count && units[end].downsample == downsample
                && (end == index || trials + units[end].dmTrials.count <= perPass)
            {
                trials += units[end].dmTrials.count
                end += 1
            }
            end = index + fittingUnits(units[index..<end], dedisperser: dedisperser, downsample: downsample)
            let batch = units[index..<end]
            let firstTrial = batch.first!.dmTrials.lowerBound
            let dms = batch.flatMap { $0.dmTrials.map { dmPlan.trials[$0].dm } }
            let length = source.spectrumCount / downsample
            let spill = try SpillFile(directory: directory, name: ".spill-\(index)")

            var clock = ContinuousClock.now
            let (sampleTime, _) = try dedisperser.stream(dms: dms, downsample: downsample) { chunk in
                for i in 0..<dms.count { try spill.write(chunk.series(i), at: i * length + chunk.start) }
            }
            timings.dedispersion += seconds(since: clock)

            clock = ContinuousClock.now
            let series = length <= heldSamples ? UnsafeMutableBufferPointer<Float>.allocate(capacity: length) : nil
            defer { series?.deallocate() }
            var heldFirst = -1
            for unit in batch {
                let id = makeID()
                let path = directory + "/\(written.count)-\(id).xxwu"
                let header = WorkUnitHeader(
                    version: WorkUnitHeader.currentVersion, workUnitID: id, datasetID: datasetID,
                    sampleTime: sampleTime, downsample: downsample, samplesPerSeries: length,
                    dms: unit.dmTrials.map { dmPlan.trials[$0].dm }, dmIndices: Array(unit.dmTrials),
                    accelerations: unit.accelerations, search: search, bits: preset.bits, scales: [], offsets: [],
                    estimatedCost: unit.estimatedCost, ffa: preset.ffaOptions, singlePulse: preset.singlePulseOptions)
                try WorkUnitPayload.write(
                    header: header, bits: preset.bits, seriesCount: unit.dmTrials.count,
                    scan: { i, visit in
                        let first = (unit.dmTrials.lowerBound - firstTrial + i) * length
                        if let series {
                            // The encoder scans a series a few times in a row to fit its
                            // quantiser: one read of the spill file serves them all.
                            if heldFirst != first {
                                heldFirst = -1  // a read that fails halfway holds no series
                                try spill.read(into: series.baseAddress!, count: length, at: first)
                                heldFirst = first
                            }
                            _ = try visit(UnsafeBufferPointer(start: series.baseAddress!, count: length))
                            return
                        }
                        var start = 0
                        while start < length {
                            let n = min(Self.pieceSamples, length - start)
                            try spill.read(into: piece.baseAddress!, count: n, at: first + start)
                            guard try visit(UnsafeBufferPointer(start: piece.baseAddress!, count: n)) else { return }
                            start += n
                        }
                    }, to: path)
                written.append(SplitPayload(
                    sequence: written.count, workUnitID: id, unit: unit, path: path, sampleTime: sampleTime,
                    samplesPerSeries: length))
            }
            timings.payloads += seconds(since: clock)
            index = end
        }
        return written
    }

    private func seconds(since start: ContinuousClock.Instant) -> Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}

/// A scratch file of Floats addressed by sample index, unlinked as soon as it is created so
/// nothing is left behind, even by a crash; its space is freed when it is closed.
final class SpillFile {
    let path: String
    private let fd: Int32

    init(directory: String, name: String) throws {
        path = directory + "/" + name
        fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SplitError.spill(file: path, operation: "create", reason: Self.errorText()) }
        unlink(path)
    }

    deinit { close(fd) }

    /// Writes `samples` starting at sample `index`.
    func write(_ samples: UnsafeBufferPointer<Float>, at index: Int) throws {
        guard let base = samples.baseAddress else { return }
        let raw = UnsafeRawPointer(base)
        let bytes = samples.count * MemoryLayout<Float>.size
        var done = 0
        while done < bytes {
            let n = pwrite(fd, raw + done, bytes - done, off_t(index * MemoryLayout<Float>.size + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw SplitError.spill(file: path, operation: "write", reason: Self.errorText())
            }
            done += n
        }
    }

    /// Reads `count` samples starting at sample `index`.
    func read(into buffer: UnsafeMutablePointer<Float>, count: Int, at index: Int) throws {
        let raw = UnsafeMutableRawPointer(buffer)
        let bytes = count * MemoryLayout<Float>.size
        var done = 0
        while done < bytes {
            let n = pread(fd, raw + done, bytes - done, off_t(index * MemoryLayout<Float>.size + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw SplitError.spill(file: path, operation: "read", reason: Self.errorText())
            }
            if n == 0 {
                throw SplitError.spill(file: path, operation: "read", reason: "ended at byte \(index * 4 + done), \(bytes - done) bytes early")
            }
            done += n
        }
    }

    static func errorText() -> String { String(cString: strerror(errno)) }
}
