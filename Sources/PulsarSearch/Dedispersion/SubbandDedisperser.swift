import CSearchKernels
import Foundation

/// Two-step (subband) incoherent dedispersion in one streaming pass over the spectra.
///
/// Channels are grouped into subbands. For each of a coarse set of nominal DMs the channels of every
/// subband are shifted and summed; each requested DM then only shifts and sums the subband series.
/// Nominal DMs are spaced so the DM error inside a subband stays under one (downsampled) sample.
/// Cost per sample is about nominal DMs x channels + DMs x subbands instead of DMs x channels.
/// The subband series persist from chunk to chunk (``SubbandSumTrees``), so each subband sample is
/// summed once. Memory holds one chunk of channels plus the largest shift inside a subband,
/// `nominal DMs x subbands x (largest subband shift + laps x chunk)` floats of subband series
/// (``workingFloats(dms:downsample:)``), and the output; never the whole input.
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
    /// Downsampled samples summed per chunk (any length: the output runs the band's largest delay
    /// behind the input). 4096 and 8192 measured fastest on 1024 channels and 1000 DMs (1024 and
    /// 2048 slower: more passes over the plans). BENCHMARKS.md has the figures.
    public var chunkLength = 4096
    /// How the shifted rows are summed:
    /// - `tree` (the default): ``ShiftSumPlan``s share the partial sums that DMs of a group (and
    ///   nominal DMs of a subband) have in common, several times fewer additions; same terms, summed
    ///   in another order (float rounding);
    /// - `vector`: every sum flat, in channel and subband order, by the AVX2 kernel `xx_sum_rows`;
    /// - `reference`: the plain loops this type used before, kept for the benchmark's baseline.
    /// `vector` and `reference` add the rows in the same order: same bits.
    public var kernel: Kernel = .tree
    /// The tree kernel's hierarchy of channels in a subband (blocks of 4 channels, then the subband).
    public var channelRadices = [4]
    /// The tree kernel's hierarchy of subbands (blocks of 4, of 16, then the band).
    public var subbandRadices = [4, 4]
    /// Output samples per pass over a group's DMs, so the subbands and partial sums stay in cache.
    public var tile = 512
    /// Samples of each subband series summed per pass over its channels (tree kernel).
    public var channelTile = 2048
    /// Chunks each subband series' buffer holds past the largest subband shift: the samples step 2
    /// still reads move to the buffer's front once every `laps` chunks.
    public var laps = 2

    public enum Kernel: String, Sendable, CaseIterable {
        case tree, vector, reference
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

    /// The subband channel `c` is summed into (consecutive channels, as evenly as they divide).
    public func subband(ofChannel c: Int) -> Int {
        SubbandShifts.subband(ofChannel: c, channels: source.channelCount, subbands: subbandCount)
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
            let s = subband(ofChannel: c)
            sums[s] += Dispersion.delay(dm: 1, frequency: freqs[c], reference: fTop)
            counts[s] += 1
        }
        return (block, zip(sums, counts).map { $1 > 0 ? $0 / Double($1) : .nan })
    }

    /// Per DM, per channel: the whole number of (downsampled) samples channel `c` is shifted by at
    /// DM `dms[i]`, `result[i][c]`. Dedispersion at `dms[i]` is exactly the sum over weighted
    /// channels of the normalised channel read that many samples later (what the tests check it by).
    public func channelShifts(dms: [Double], downsample: Int) -> [[Int]] {
        shifts(dms: dms, downsample: downsample).channelShifts()
    }

    /// The shifts of every call at `dms` and downsampling `downsample`.
    private func shifts(dms: [Double], downsample: Int) -> SubbandShifts {
        SubbandShifts(frequencies: (0..<source.channelCount).map(source.channelFrequency), subbands: subbandCount,
                      dms: dms, sampleTime: source.sampleTime * Double(max(1, downsample)))
    }

    /// The summing plans of the `tree` or `vector` kernel (`vector`: flat sums), as configured.
    private func sumTrees(_ shifts: SubbandShifts, chunk: Int, kernel: Kernel) -> SubbandSumTrees {
        let tree = kernel == .tree
        return SubbandSumTrees(shifts: shifts, weights: weights.weights, chunk: chunk, tile: tree ? tile : 2048,
                                   channelTile: tree ? channelTile : 1 << 30, channelRadices: tree ? channelRadices : [],
                                   subbandRadices: tree ? subbandRadices : [], laps: laps)
    }

    /// Additions per spectrum (per output sample of every DM together) the current kernel plans at
    /// `dms`, in each step (channels into subbands, subbands into DMs): the arithmetic cost the
    /// benchmark prints beside its times. The reference loops add what the flat vector sums add,
    /// and sum each chunk's subband series again over the band's delay after it.
    public func plannedAdditions(dms: [Double], downsample: Int) -> (channels: Double, subbands: Double) {
        let shifts = shifts(dms: dms, downsample: downsample)
        guard kernel == .reference else { return sumTrees(shifts, chunk: max(1, chunkLength), kernel: kernel).additionsPerSample() }
        let flat = sumTrees(shifts, chunk: max(1, chunkLength), kernel: .vector).additionsPerSample()
        let chunk = Double(max(chunkLength, shifts.maxChannelDelay + shifts.maxSubbandDelay))
        return (flat.channels * (chunk + Double(shifts.maxSubbandDelay)) / chunk, flat.subbands)
    }

    /// Floats this dedisperser holds while dedispersing `dms` at `downsample`, besides the output
    /// (the whole series, or a chunk of each when streaming): the channel rows and, for the tree
    /// and vector kernels, each nominal DM's subband series over the band's largest subband shift
    /// plus `laps` chunks. What a caller with a memory budget sizes its passes by.
    public func workingFloats(dms: [Double], downsample: Int) -> Int {
        guard !dms.isEmpty else { return 0 }
        let shifts = shifts(dms: dms, downsample: downsample)
        let nch = source.channelCount, nsub = shifts.subbandCount, lag = shifts.maxSubbandDelay
        if kernel == .reference {
            let overlap = shifts.maxChannelDelay + lag, chunk = max(chunkLength, overlap)
            return nch * (chunk + overlap) + nsub * (chunk + lag)
        }
        let chunk = max(1, chunkLength)
        return nch * (chunk + shifts.maxChannelDelay) + SubbandSumTrees.seriesFloats(shifts: shifts, chunk: chunk, laps: laps)
    }

    /// Dedisperses at `dms` with time downsampling `downsample`, handing the output to `body` one
    /// chunk at a time, in time order, instead of keeping it: memory holds one chunk of output per
    /// DM and ``workingFloats(dms:downsample:)``, whatever the observation's length. The chunk's
    /// buffer is reused and valid only during the call. The values are the same as
    /// ``dedisperse(dms:downsample:progress:)``'s. Returns the series' sample time and length.
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
        let length = source.spectrumCount / ds
        guard !dms.isEmpty, length > 0 else { return }
        let shifts = shifts(dms: dms, downsample: ds)
        if kernel == .reference {
            try runReference(shifts: shifts, downsample: ds, separateSubbands: separateSubbands, whole: whole, chunk: body)
            return
        }
        let chunk = max(1, chunkLength)
        let trees = sumTrees(shifts, chunk: chunk, kernel: kernel)
        let lag = trees.lag
        let outputSeries = separateSubbands ? subbandCount : dms.count
        var chunkOutput = [Float](repeating: 0, count: whole == nil ? outputSeries * chunk : 0)
        try withChannelRows(downsample: ds, length: length, chunk: chunk, overlap: shifts.maxChannelDelay) { rows, stride, next in
            // Step 1 sums chunk `t0 ..< t0 + chunk` of the subband series; step 2 then emits output
            // `lag` samples behind, until the output is whole.
            var t0 = 0
            while t0 - lag < length {
                try trees.advance(channels: rows, stride: stride)
                let skip = max(0, lag - t0)
                let start = t0 - lag + skip
                let count = min(chunk - skip, length - start)
                if count > 0 {
                    let outStride = whole == nil ? chunk : length
                    try chunkOutput.withUnsafeMutableBufferPointer { chunkOut in
                        let out = whole.map { $0 + start } ?? chunkOut.baseAddress!
                        trees.emit(skip: skip, count: count, output: out, outStride: outStride, separateSubbands: separateSubbands)
                        try body(DedispersedChunk(start: start, count: count, stride: outStride,
                                                  samples: UnsafeBufferPointer(start: out, count: (outputSeries - 1) * outStride + count)))
                    }
                }
                t0 += chunk
                if t0 - lag < length { try next() }
            }
        }
    }

    /// The loop the reference kernel ran before issue 18 (the benchmark's baseline): each chunk's
    /// channels with the band's whole delay after them, every subband series summed again over it.
    private func runReference(
        shifts: SubbandShifts, downsample ds: Int, separateSubbands: Bool, whole: UnsafeMutablePointer<Float>?,
        chunk body: (DedispersedChunk) throws -> Void
    ) throws {
        let length = source.spectrumCount / ds
        let overlap = shifts.maxChannelDelay + shifts.maxSubbandDelay
        let chunk = max(chunkLength, overlap)
        let outputSeries = separateSubbands ? subbandCount : shifts.subbandDelays.count
        var chunkOutput = [Float](repeating: 0, count: whole == nil ? outputSeries * chunk : 0)
        var loops = ReferenceLoops(shifts: shifts, weights: weights.weights, chunk: chunk)
        try withChannelRows(downsample: ds, length: length, chunk: chunk, overlap: overlap) { rows, stride, next in
            var t0 = 0
            while t0 < length {
                let current = min(chunk, length - t0)
                let outStride = whole == nil ? chunk : length
                try chunkOutput.withUnsafeMutableBufferPointer { chunkOut in
                    let out = whole.map { $0 + t0 } ?? chunkOut.baseAddress!
                    loops.compute(channels: rows, stride: stride, current: current, output: out,
                                  outStride: outStride, separateSubbands: separateSubbands)
                    try body(DedispersedChunk(start: t0, count: current, stride: outStride,
                                              samples: UnsafeBufferPointer(start: out, count: (outputSeries - 1) * outStride + current)))
                }
                t0 += current
                if t0 < length { try next() }
            }
        }
    }

    /// Normalised channel rows of `chunk + overlap` samples, the first chunk read, for `body`;
    /// `next` moves the rows on by a chunk (the overlap kept, the next chunk read behind it).
    private func withChannelRows(
        downsample ds: Int, length: Int, chunk: Int, overlap: Int,
        _ body: (UnsafePointer<Float>, Int, () throws -> Void) throws -> Void
    ) throws {
        let nch = source.channelCount
        let stride = chunk + overlap
        // On huge pages where the kernel gives them: the reader's transposed stores touch every row.
        guard let channels = xx_alloc_floats_huge(nch * stride) else { throw DedispersionError.outOfMemory(floats: nch * stride) }
        defer { xx_free_floats(channels) }
        channels.initialize(repeating: 0, count: nch * stride)
        let reader = ChunkReader(source: source, weights: weights, downsample: ds, length: length)
        try source.seek(toSpectrum: 0)
        try reader.fill(channels, stride: stride, at: 0, count: stride)
        try body(channels, stride) {
            for c in 0..<nch {
                let row = channels + c * stride
                row.update(from: row + chunk, count: overlap)
            }
            try reader.fill(channels, stride: stride, at: overlap, count: chunk)
        }
    }
}

/// Why dedispersion could not run.
public enum DedispersionError: Error, CustomStringConvertible {
    /// A buffer of `floats` floats (channel rows or subband series) could not be allocated.
    case outOfMemory(floats: Int)

    public var description: String {
        switch self {
        case .outOfMemory(let floats):
            return "dedispersion: could not allocate \(floats * 4 / 1_000_000) MB of channel rows or subband series; use fewer channels or DM trials per pass"
        }
    }
}
