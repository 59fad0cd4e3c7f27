import Foundation

/// What cleaning did to an observation, for the search's output and the dataset's page.
public struct RFIReport: Sendable, Codable, Equatable {
    /// Fraction of all channel x block cells masked.
    public var fractionMasked: Double
    /// Fraction of each channel's blocks masked (file order), and of each block's channels.
    public var channelFractions: [Double]
    public var blockFractions: [Double]
    /// Seconds per block.
    public var blockSeconds: Double
    /// Channels masked for the whole observation.
    public var maskedChannels: [Int]
    /// Spectra replaced by clipping, and the fraction of all spectra they are.
    public var clippedSpectra: Int
    public var clippedFraction: Double
    public var zeroDM: Bool
    /// Periodic interference found at DM 0 and zapped from every trial (automatic birdies).
    public var birdies: [Birdie] = []

    public init(mask: RFIMask, clippedSpectra: Int) {
        fractionMasked = mask.fractionMasked
        channelFractions = mask.channelFractions
        blockFractions = mask.blockFractions
        blockSeconds = Double(mask.header.blockSamples) * mask.header.sampleTime
        maskedChannels = mask.maskedChannels
        self.clippedSpectra = clippedSpectra
        clippedFraction = Double(clippedSpectra) / Double(max(1, mask.header.spectra))
        zeroDM = mask.header.options.zeroDM
    }

    /// One line for people.
    public var summary: String {
        String(format: "RFI: %.1f%% of the data masked (%d whole channel(s)), %d spectra clipped (%.2f%%)%@; %d birdie(s) zapped%@",
               100 * fractionMasked, maskedChannels.count, clippedSpectra, 100 * clippedFraction, zeroDM ? ", zero-DM filtered" : "",
               birdies.count, birdies.isEmpty ? "" : ": " + birdies.prefix(6).map { String(format: "%.4g Hz x%d", $0.frequency, $0.harmonics) }.joined(separator: ", "))
    }
}

/// A filterbank with its interference taken out, block by block as the mask cut it: masked cells
/// replaced by their channel's typical level, spectra whose channel average stands out by more
/// than `clipSigma` robust sigmas from the rest of their block replaced whole (clipping), and, with
/// `zeroDM`, each spectrum's channel average (in units of each channel's scale) subtracted.
///
/// Deterministic whatever the reads: a block is always cleaned whole. Not thread-safe.
public final class CleanedSpectra: SpectrumSource {
    public let source: any SpectrumSource
    public let mask: RFIMask
    public var channelCount: Int { source.channelCount }
    public var spectrumCount: Int { source.spectrumCount }
    public var sampleTime: Double { source.sampleTime }
    public func channelFrequency(_ index: Int) -> Double { source.channelFrequency(index) }

    private var position = 0
    private var cachedBlock = -1
    private var cache: [Float] = []
    private var clipped: [Int?]

    /// Spectra clipped so far in the blocks cleaned (each block counted once).
    public var clippedSpectra: Int { clipped.reduce(0) { $0 + ($1 ?? 0) } }

    public init(source: any SpectrumSource, mask: RFIMask) {
        self.source = source
        self.mask = mask
        clipped = [Int?](repeating: nil, count: mask.blocks)
    }

    /// Cleans every block once (reading the whole source) so that ``report`` counts every clip.
    public func report() throws -> RFIReport {
        for b in 0..<mask.blocks where clipped[b] == nil { try load(block: b) }
        try seek(toSpectrum: position)
        return RFIReport(mask: mask, clippedSpectra: clippedSpectra)
    }

    public func seek(toSpectrum index: Int) throws { position = max(0, min(index, spectrumCount)) }

    public func read(into buffer: UnsafeMutableBufferPointer<Float>, count: Int) throws -> Int {
        let nch = channelCount
        let n = min(count, spectrumCount - position, buffer.count / nch)
        guard n > 0 else { return 0 }
        var done = 0
        while done < n {
            let b = mask.block(ofSpectrum: position)
            if b != cachedBlock { try load(block: b) }
            let first = b * mask.header.blockSamples
            let end = b == mask.blocks - 1 ? spectrumCount : first + mask.header.blockSamples
            let take = min(n - done, end - position)
            cache.withUnsafeBufferPointer { src in
                (buffer.baseAddress! + done * nch).update(from: src.baseAddress! + (position - first) * nch, count: take * nch)
            }
            done += take
            position += take
        }
        return n
    }

    private func load(block b: Int) throws {
        let nch = channelCount
        let first = b * mask.header.blockSamples
        let count = (b == mask.blocks - 1 ? spectrumCount : first + mask.header.blockSamples) - first
        if cache.count < count * nch { cache = [Float](repeating: 0, count: count * nch) }
        try source.seek(toSpectrum: first)
        var got = 0
        try cache.withUnsafeMutableBufferPointer { buffer in
            while got < count {
                let r = try source.read(into: UnsafeMutableBufferPointer(rebasing: buffer[(got * nch)...]), count: count - got)
                guard r > 0 else { break }
                got += r
            }
        }
        let options = mask.header.options
        let level = mask.header.channelLevel, scale = mask.header.channelScale
        let keep = (0..<nch).filter { !mask.isMasked(block: b, channel: $0) && scale[$0] > 0 }
        let masked = (0..<nch).filter { mask.isMasked(block: b, channel: $0) }
        var z = [Float](repeating: 0, count: got)
        cache.withUnsafeMutableBufferPointer { x in
            for t in 0..<got {
                let row = x.baseAddress! + t * nch
                for c in masked { row[c] = level[c] }
                var s: Float = 0
                for c in keep { s += (row[c] - level[c]) / scale[c] }
                z[t] = keep.isEmpty ? 0 : s / Float(keep.count)
            }
        }
        var clips = 0
        if options.clipSigma > 0, !keep.isEmpty, got > 1 {
            let centre = Robust.median(z)
            let spread = max(Robust.sigma(z, centre: centre), 1e-6)
            let limit = Float(options.clipSigma) * spread
            cache.withUnsafeMutableBufferPointer { x in
                for t in 0..<got where abs(z[t] - centre) > limit {
                    let row = x.baseAddress! + t * nch
                    for c in 0..<nch { row[c] = level[c] }
                    z[t] = 0
                    clips += 1
                }
            }
        }
        if options.zeroDM {
            cache.withUnsafeMutableBufferPointer { x in
                for t in 0..<got {
                    let row = x.baseAddress! + t * nch
                    for c in keep { row[c] -= z[t] * scale[c] }
                }
            }
        }
        clipped[b] = clips
        cachedBlock = b
    }
}
