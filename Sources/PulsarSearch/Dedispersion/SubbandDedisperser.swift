import CSearchKernels
import Foundation

/// Dedispersed time series at several DMs, stored contiguously: series `i` is
/// `data[i * length ..< (i + 1) * length]`.
public struct DedispersedBlock: Sendable {
    public let dms: [Double]
    public let downsample: Int
    /// Seconds per sample of every series.
    public let sampleTime: Double
    /// Samples per series.
    public let length: Int
    public let data: [Float]

    /// Calls `body` with series `i`.
    public func withSeries<R>(_ i: Int, _ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try data.withUnsafeBufferPointer { all in
            try body(UnsafeBufferPointer(rebasing: all[(i * length)..<((i + 1) * length)]))
        }
    }
}

/// Two-step (subband) incoherent dedispersion in one streaming pass over the spectra.
///
/// Channels are grouped into subbands. For each of a coarse set of nominal DMs the channels of every
/// subband are shifted and summed; each requested DM then only shifts and sums the subband series.
/// Nominal DMs are spaced so the DM error inside a subband stays under one (downsampled) sample.
/// Cost per sample is about nominal DMs x channels + DMs x subbands instead of DMs x channels.
/// Memory holds one chunk of channels plus the largest delay, and the output; never the whole input.
///
/// **Rounding.** Delays are whole (downsampled) samples. With `dt` the sample time, `g_c D` the
/// delay of channel `c` behind the top of the band at DM `D` in samples, `D0` the nominal DM of a
/// trial's group and `d = D - D0` (`|d|` at most half the nominal spacing), channel `c` of subband
/// `s` is shifted by `round(g_c D0) - round(g_top(s) D0)` (its delay behind the band's top, rounded
/// once, less the subband top's) and the subband by `round(g_top(s) D0) + round(g_mid(s) d)`,
/// `g_mid(s)` being the middle of the subband's range of `g`. The channel's total shift is
/// `round(g_c D0) + round(g_mid(s) d)`, and its error against the exact delay `g_c D` is
///
///     (round(g_c D0) - g_c D0) + (round(g_mid(s) d) - g_mid(s) d) + (g_mid(s) - g_c) d
///
/// - at a nominal DM (`d = 0`): at most 1/2 sample, the shifts of direct dedispersion exactly (the
///   first DM of every call is a nominal DM);
/// - elsewhere: at most 1/2 + min(1/2, |g_mid(s) d|) of rounding, at most 1 sample, plus at most
///   1/2 sample from the DM error inside the subband (`|g_mid(s) - g_c| |d| <= 1/2` by the nominal
///   spacing): 3/2 samples in all. The subband shift is shared by the subband's channels, so its
///   rounding cannot be folded into the channels' (that would need a channel stage per DM).
///
/// (Rounding the channel-to-subband-top delay at `D0` and the subband-top-to-band delay at `D`
/// separately, as this did before, erred by up to 1 sample at a nominal DM and 2 elsewhere: the
/// DM error inside a subband then ran one way, from 0 at its top to a whole sample at its bottom.)
public final class SubbandDedisperser {
    public let source: SpectrumSource
    public let weights: ChannelWeights
    /// Subbands used (1 channel each degenerates to direct dedispersion).
    public let subbandCount: Int
    /// Downsampled samples processed per chunk (at least the largest delay). 4096 measured fastest
    /// with the vector kernel on 1024 channels and 1000 DMs (77 MB/CPU-s; 16384: 57): the chunk's
    /// channels stay nearer the core while every nominal DM's subbands are summed from them.
    public var chunkLength = 4096
    /// How the shifted rows are summed: `vector` (the AVX2 kernel `xx_sum_rows`, 32 samples in
    /// registers while every row is added) or `reference` (the plain loops this type used before,
    /// kept for the benchmark's baseline). Both add the rows in the same order: same bits.
    public var kernel: Kernel = .vector

    public enum Kernel: String, Sendable, CaseIterable {
        case vector, reference
    }

    public init(source: SpectrumSource, weights: ChannelWeights, subbands: Int? = nil) {
        self.source = source
        self.weights = weights
        let nch = source.channelCount
        let automatic = nch <= 16 ? nch : min(nch, max(16, Int((2 * Double(nch).squareRoot()).rounded())))
        self.subbandCount = max(1, min(nch, subbands ?? automatic))
    }

    /// Dedisperses at `dms` with time downsampling `downsample`; `progress(done, total)` is called
    /// after each chunk with output samples done.
    public func dedisperse(
        dms: [Double], downsample: Int, progress: ((Int, Int) -> Void)? = nil
    ) throws -> DedispersedBlock {
        try dedisperse(dms: dms, downsample: downsample, separateSubbands: false, progress: progress)
    }

    /// Dedisperses at one DM but keeps the subbands apart: series `s` of the result is subband `s`,
    /// aligned to the top of the band. `delayPerDM[s]` is the mean over the subband's channels of
    /// the delay per unit DM relative to the top of the band (s per pc cm^-3), what a DM error
    /// would shift that subband by.
    public func dedisperseSubbands(dm: Double, downsample: Int) throws -> (block: DedispersedBlock, delayPerDM: [Double]) {
        let block = try dedisperse(dms: [dm], downsample: downsample, separateSubbands: true, progress: nil)
        let nch = source.channelCount
        let freqs = (0..<nch).map(source.channelFrequency)
        let fTop = freqs.max()!
        var sums = [Double](repeating: 0, count: subbandCount)
        var counts = [Int](repeating: 0, count: subbandCount)
        for c in 0..<nch where weights.weights[c] != 0 {
            let s = c * subbandCount / nch
            sums[s] += Dispersion.delay(dm: 1, frequency: freqs[c], reference: fTop)
            counts[s] += 1
        }
        return (block, zip(sums, counts).map { $1 > 0 ? $0 / Double($1) : .nan })
    }

    /// Dedisperses at `dms` with time downsampling `downsample`, handing the output to `body` one
    /// chunk at a time, in time order, instead of keeping it: memory holds one chunk of input and
    /// one chunk of output per DM (about `chunkLength` samples each), whatever the observation's
    /// length. The chunk's buffer is reused and valid only during the call. The values are the
    /// same as ``dedisperse(dms:downsample:progress:)``'s. Returns the series' sample time and length.
    @discardableResult
    public func stream(
        dms: [Double], downsample: Int, chunk body: (DedispersedChunk) throws -> Void
    ) throws -> (sampleTime: Double, length: Int) {
        let ds = max(1, downsample)
        let length = source.spectrumCount / ds
        try run(dms: dms, downsample: ds, separateSubbands: false, whole: nil, chunk: body)
        return (source.sampleTime * Double(ds), max(0, length))
    }

    private func dedisperse(
        dms: [Double], downsample: Int, separateSubbands: Bool, progress: ((Int, Int) -> Void)?
    ) throws -> DedispersedBlock {
        let ds = max(1, downsample)
        let dtEff = source.sampleTime * Double(ds)
        let length = max(0, source.spectrumCount / ds)
        let outputSeries = separateSubbands ? subbandCount : dms.count
        var output = [Float](repeating: 0, count: dms.isEmpty ? 0 : outputSeries * length)
        if !dms.isEmpty && length > 0 {
            try output.withUnsafeMutableBufferPointer { out in
                try run(dms: dms, downsample: ds, separateSubbands: separateSubbands, whole: out.baseAddress!) {
                    progress?($0.start + $0.count, length)
                }
            }
        }
        let seriesDMs = separateSubbands ? [Double](repeating: dms.first ?? 0, count: subbandCount) : dms
        return DedispersedBlock(dms: seriesDMs, downsample: ds, sampleTime: dtEff, length: length, data: output)
    }

    /// The one dedispersion loop. Output goes to `whole` (series `i` at `i * length`) when given,
    /// else to a chunk buffer handed to `chunk`; with `whole`, `chunk` sees the chunk in place.
    private func run(
        dms: [Double], downsample ds: Int, separateSubbands: Bool, whole: UnsafeMutablePointer<Float>?,
        chunk body: (DedispersedChunk) throws -> Void
    ) throws {
        let nch = source.channelCount
        let dtEff = source.sampleTime * Double(ds)
        let length = source.spectrumCount / ds
        guard !dms.isEmpty, length > 0 else { return }
        let freqs = (0..<nch).map(source.channelFrequency)
        let fTop = freqs.max()!
        let nsub = subbandCount
        let subOf = (0..<nch).map { $0 * nsub / nch }
        var subTop = [Double](repeating: 0, count: nsub)
        var subBottom = [Double](repeating: .infinity, count: nsub)
        for c in 0..<nch {
            subTop[subOf[c]] = max(subTop[subOf[c]], freqs[c])
            subBottom[subOf[c]] = min(subBottom[subOf[c]], freqs[c])
        }
        func samples(_ seconds: Double) -> Int { Int((seconds / dtEff).rounded()) }

        // Nominal DMs: spacing keeps the intra-subband error under one sample (half a sample either
        // way of the subband's middle).
        var widest = 0.0
        for s in 0..<nsub { widest = max(widest, Dispersion.delay(dm: 1, frequency: subBottom[s], reference: subTop[s])) }
        let nominalStep = widest > 0 ? 2 * dtEff / widest : .infinity
        let dmLow = dms.min()!
        var groupOf: [Int: [Int]] = [:]
        for (i, dm) in dms.enumerated() {
            let g = nominalStep.isFinite ? Int(((dm - dmLow) / nominalStep).rounded()) : 0
            groupOf[g, default: []].append(i)
        }
        let groupKeys = groupOf.keys.sorted()
        let groups = groupKeys.map { groupOf[$0]! }
        // Rounded once, as the type's documentation says: each channel by its whole delay behind the
        // top of the band at the nominal DM, less the subband top's; each subband by its top's delay
        // at the nominal DM plus its middle's delay for the DM's offset from the nominal DM.
        let midPerDM = (0..<nsub).map { s in
            0.5 * (Dispersion.delay(dm: 1, frequency: subTop[s], reference: fTop)
                + Dispersion.delay(dm: 1, frequency: subBottom[s], reference: fTop)) / dtEff
        }
        var channelDelays: [[Int]] = []
        var subDelays = [[Int]](repeating: [], count: dms.count)
        for (g, members) in zip(groupKeys, groups) {
            let d0 = nominalStep.isFinite ? dmLow + Double(g) * nominalStep : dmLow
            let topDelays = (0..<nsub).map { s in samples(Dispersion.delay(dm: d0, frequency: subTop[s], reference: fTop)) }
            channelDelays.append((0..<nch).map { c in
                samples(Dispersion.delay(dm: d0, frequency: freqs[c], reference: fTop)) - topDelays[subOf[c]]
            })
            for i in members {
                let offset = dms[i] - d0
                // Clamped at 0 (the subband series start at the chunk's first sample). With the
                // nominal spacing above, the sum is negative only for the top subband below its
                // nominal DM at a rounding tie (|g_mid d| = 1/2), where 0 errs no more than -1.
                subDelays[i] = (0..<nsub).map { s in max(0, topDelays[s] + Int((midPerDM[s] * offset).rounded())) }
            }
        }
        let maxChannelDelay = channelDelays.map { $0.max() ?? 0 }.max() ?? 0
        let maxSubDelay = subDelays.map { $0.max() ?? 0 }.max() ?? 0
        let overlap = maxChannelDelay + maxSubDelay
        let chunk = max(chunkLength, overlap)
        let stride = chunk + overlap
        let subStride = chunk + maxSubDelay
        let outputSeries = separateSubbands ? nsub : dms.count
        // Output samples summed per pass over a group's DMs, so the subbands they read stay in cache.
        let tile = 2048

        var channels = [Float](repeating: 0, count: nch * stride)
        var subbands = [Float](repeating: 0, count: nsub * subStride)
        var chunkOutput = [Float](repeating: 0, count: whole == nil ? outputSeries * chunk : 0)
        let channelWeights = weights.weights
        // Each subband's channels that carry weight, and room for the row pointers the kernel sums.
        let subChannels = (0..<nsub).map { s in (0..<nch).filter { subOf[$0] == s && channelWeights[$0] != 0 } }
        let rowPointers = UnsafeMutablePointer<UnsafePointer<Float>?>.allocate(capacity: max(nch, nsub))
        defer { rowPointers.deallocate() }
        let kernel = self.kernel
        let reader = ChunkReader(source: source, weights: weights, downsample: ds, length: length)
        try source.seek(toSpectrum: 0)
        try reader.fill(&channels, stride: stride, at: 0, count: stride)

        var t0 = 0
        while t0 < length {
            let current = min(chunk, length - t0)
            let outStride = whole == nil ? chunk : length
            chunkOutput.withUnsafeMutableBufferPointer { chunkOut in
                let outBase = whole.map { $0 + t0 } ?? chunkOut.baseAddress!
                channels.withUnsafeBufferPointer { chan in
                    subbands.withUnsafeMutableBufferPointer { sub in
                        for gi in 0..<groups.count {
                            channelDelays[gi].withUnsafeBufferPointer { delays in
                                let span = current + maxSubDelay
                                if kernel == .reference {
                                    sub.baseAddress!.update(repeating: 0, count: nsub * subStride)
                                    for c in 0..<nch where channelWeights[c] != 0 {
                                        let dst = sub.baseAddress! + subOf[c] * subStride
                                        let src = chan.baseAddress! + c * stride + delays[c]
                                        for t in 0..<span { dst[t] += src[t] }
                                    }
                                    return
                                }
                                for s in 0..<nsub {
                                    let members = subChannels[s]
                                    for (k, c) in members.enumerated() { rowPointers[k] = UnsafePointer(chan.baseAddress! + c * stride + delays[c]) }
                                    xx_sum_rows(rowPointers, members.count, sub.baseAddress! + s * subStride, span)
                                }
                            }
                            var first = 0
                            while first < current {
                                let n = min(tile, current - first)
                                for i in groups[gi] {
                                    subDelays[i].withUnsafeBufferPointer { shifts in
                                        if separateSubbands {
                                            for s in 0..<nsub {
                                                let src = sub.baseAddress! + s * subStride + shifts[s] + first
                                                (outBase + s * outStride + first).update(from: src, count: n)
                                            }
                                            return
                                        }
                                        let dst = outBase + i * outStride + first
                                        if kernel == .vector {
                                            for s in 0..<nsub { rowPointers[s] = UnsafePointer(sub.baseAddress! + s * subStride + shifts[s] + first) }
                                            xx_sum_rows(rowPointers, nsub, dst, n)
                                            return
                                        }
                                        dst.update(repeating: 0, count: n)
                                        for s in 0..<nsub {
                                            let src = sub.baseAddress! + s * subStride + shifts[s] + first
                                            for t in 0..<n { dst[t] += src[t] }
                                        }
                                    }
                                }
                                first += n
                            }
                        }
                    }
                }
            }
            if let whole {
                try body(DedispersedChunk(start: t0, count: current, stride: length,
                                          samples: UnsafeBufferPointer(start: whole + t0, count: (outputSeries - 1) * length + current)))
            } else {
                try chunkOutput.withUnsafeBufferPointer {
                    try body(DedispersedChunk(start: t0, count: current, stride: chunk, samples: $0))
                }
            }
            t0 += current
            guard t0 < length else { break }
            // Keep the overlap, read the next chunk behind it.
            channels.withUnsafeMutableBufferPointer { chan in
                for c in 0..<nch {
                    let row = chan.baseAddress! + c * stride
                    row.update(from: row + chunk, count: overlap)
                }
            }
            try reader.fill(&channels, stride: stride, at: overlap, count: chunk)
        }
    }
}

/// One chunk of dedispersed output: samples `start ..< start + count` of every series, series `i`
/// at `samples[i * stride ..< i * stride + count]`.
public struct DedispersedChunk {
    /// Index of the chunk's first sample in the whole series.
    public let start: Int
    /// Samples of each series in this chunk.
    public let count: Int
    /// Distance between consecutive series in `samples`.
    public let stride: Int
    public let samples: UnsafeBufferPointer<Float>

    /// This chunk of series `i`.
    public func series(_ i: Int) -> UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: samples.baseAddress! + i * stride, count: count)
    }
}

/// Reads spectra, downsamples, normalises each channel and transposes to channel-major rows.
/// Past the end of the data it writes zeros (the normalised mean).
final class ChunkReader {
    let source: SpectrumSource
    let weights: ChannelWeights
    let downsample: Int
    let length: Int
    private var produced = 0
    private var raw: [Float] = []
    private let blockSpectra = 4096

    init(source: SpectrumSource, weights: ChannelWeights, downsample: Int, length: Int) {
        self.source = source
        self.weights = weights
        self.downsample = downsample
        self.length = length
    }

    /// Writes `count` downsampled samples of every channel at column `at` of rows of width `stride`.
    func fill(_ channels: inout [Float], stride: Int, at column: Int, count: Int) throws {
        let nch = source.channelCount
        let ds = downsample
        let samplesPerBlock = max(1, blockSpectra / ds)
        if raw.count < samplesPerBlock * ds * nch { raw = [Float](repeating: 0, count: samplesPerBlock * ds * nch) }
        var written = 0
        var row = [Float](repeating: 0, count: nch)
        let offsets = weights.means.map { $0 * Float(ds) }
        while written < count {
            let want = min(samplesPerBlock, count - written, max(0, length - produced))
            var got = 0
            if want > 0 {
                let spectra = try raw.withUnsafeMutableBufferPointer { try source.read(into: $0, count: want * ds) }
                got = spectra / ds
            }
            if got == 0 {
                channels.withUnsafeMutableBufferPointer { chan in
                    for c in 0..<nch {
                        (chan.baseAddress! + c * stride + column + written).update(repeating: 0, count: count - written)
                    }
                }
                return
            }
            raw.withUnsafeBufferPointer { x in
                channels.withUnsafeMutableBufferPointer { chan in
                    weights.weights.withUnsafeBufferPointer { w in
                        offsets.withUnsafeBufferPointer { o in
                            row.withUnsafeMutableBufferPointer { acc in
                                for t in 0..<got {
                                    let first = x.baseAddress! + t * ds * nch
                                    acc.baseAddress!.update(from: first, count: nch)
                                    for i in 1..<max(1, ds) {
                                        let next = first + i * nch
                                        for c in 0..<nch { acc[c] += next[c] }
                                    }
                                    let dst = chan.baseAddress! + column + written + t
                                    for c in 0..<nch { dst[c * stride] = (acc[c] - o[c]) * w[c] }
                                }
                            }
                        }
                    }
                }
            }
            written += got
            produced += got
        }
    }
}
