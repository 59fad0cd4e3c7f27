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
/// subband are shifted and summed to the subband's top frequency; each requested DM then only
/// shifts and sums the subband series. Nominal DMs are spaced so the error inside a subband stays
/// under one (downsampled) sample. Cost per sample is about nominal DMs x channels + DMs x subbands
/// instead of DMs x channels. Memory holds one chunk of channels plus the largest delay, and the
/// output; never the whole input.
public final class SubbandDedisperser {
    public let source: SpectrumSource
    public let weights: ChannelWeights
    /// Subbands used (1 channel each degenerates to direct dedispersion).
    public let subbandCount: Int
    /// Downsampled samples processed per chunk.
    public var chunkLength = 16384

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

    private func dedisperse(
        dms: [Double], downsample: Int, separateSubbands: Bool, progress: ((Int, Int) -> Void)?
    ) throws -> DedispersedBlock {
        let nch = source.channelCount
        let ds = max(1, downsample)
        let dtEff = source.sampleTime * Double(ds)
        let length = source.spectrumCount / ds
        guard !dms.isEmpty, length > 0 else {
            return DedispersedBlock(dms: dms, downsample: ds, sampleTime: dtEff, length: max(0, length), data: [])
        }
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

        // Nominal DMs: spacing keeps the intra-subband error under one sample.
        var widest = 0.0
        for s in 0..<nsub { widest = max(widest, Dispersion.delay(dm: 1, frequency: subBottom[s], reference: subTop[s])) }
        let nominalStep = widest > 0 ? 2 * dtEff / widest : .infinity
        let dmLow = dms.min()!
        var groups: [Int: [Int]] = [:]
        for (i, dm) in dms.enumerated() {
            let g = nominalStep.isFinite ? Int(((dm - dmLow) / nominalStep).rounded()) : 0
            groups[g, default: []].append(i)
        }
        let groupKeys = groups.keys.sorted()
        var channelDelays: [[Int]] = []
        for g in groupKeys {
            let d0 = nominalStep.isFinite ? dmLow + Double(g) * nominalStep : dmLow
            channelDelays.append((0..<nch).map { c in
                samples(Dispersion.delay(dm: d0, frequency: freqs[c], reference: subTop[subOf[c]]))
            })
        }
        let subDelays: [[Int]] = dms.map { dm in
            (0..<nsub).map { s in samples(Dispersion.delay(dm: dm, frequency: subTop[s], reference: fTop)) }
        }
        let maxChannelDelay = channelDelays.map { $0.max() ?? 0 }.max() ?? 0
        let maxSubDelay = subDelays.map { $0.max() ?? 0 }.max() ?? 0
        let overlap = maxChannelDelay + maxSubDelay
        let chunk = max(chunkLength, overlap)
        let stride = chunk + overlap
        let subStride = chunk + maxSubDelay

        var channels = [Float](repeating: 0, count: nch * stride)
        var subbands = [Float](repeating: 0, count: nsub * subStride)
        let outputSeries = separateSubbands ? nsub : dms.count
        var output = [Float](repeating: 0, count: outputSeries * length)
        let reader = ChunkReader(source: source, weights: weights, downsample: ds, length: length)
        try source.seek(toSpectrum: 0)
        try reader.fill(&channels, stride: stride, at: 0, count: stride)

        var t0 = 0
        while t0 < length {
            let current = min(chunk, length - t0)
            channels.withUnsafeBufferPointer { chan in
                subbands.withUnsafeMutableBufferPointer { sub in
                    output.withUnsafeMutableBufferPointer { out in
                        for (gi, g) in groupKeys.enumerated() {
                            let delays = channelDelays[gi]
                            let span = current + maxSubDelay
                            sub.baseAddress!.update(repeating: 0, count: nsub * subStride)
                            for c in 0..<nch where weights.weights[c] != 0 {
                                let dst = sub.baseAddress! + subOf[c] * subStride
                                let src = chan.baseAddress! + c * stride + delays[c]
                                for t in 0..<span { dst[t] += src[t] }
                            }
                            for i in groups[g]! {
                                let shifts = subDelays[i]
                                if separateSubbands {
                                    for s in 0..<nsub {
                                        let src = sub.baseAddress! + s * subStride + shifts[s]
                                        (out.baseAddress! + s * length + t0).update(from: src, count: current)
                                    }
                                    continue
                                }
                                let dst = out.baseAddress! + i * length + t0
                                dst.update(repeating: 0, count: current)
                                for s in 0..<nsub {
                                    let src = sub.baseAddress! + s * subStride + shifts[s]
                                    for t in 0..<current { dst[t] += src[t] }
                                }
                            }
                        }
                    }
                }
            }
            t0 += current
            progress?(t0, length)
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
        let seriesDMs = separateSubbands ? [Double](repeating: dms[0], count: nsub) : dms
        return DedispersedBlock(dms: seriesDMs, downsample: ds, sampleTime: dtEff, length: length, data: output)
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
