import Foundation

/// Per-channel offsets and weights that put every channel on a common scale before summing, and
/// drop dead or interference-dominated channels.
public struct ChannelWeights: Sendable, Equatable {
    /// Mean of each channel.
    public var means: [Float]
    /// 1/std of each channel; 0 for a masked channel.
    public var weights: [Float]

    public init(means: [Float], weights: [Float]) {
        self.means = means
        self.weights = weights
    }

    /// Equal weights, no offsets.
    public static func uniform(channels: Int) -> ChannelWeights {
        ChannelWeights(means: .init(repeating: 0, count: channels), weights: .init(repeating: 1, count: channels))
    }

    /// Channels masked (weight 0).
    public var maskedCount: Int { weights.filter { $0 == 0 }.count }

    /// Measures channel statistics from up to `blocks` blocks of `blockLength` spectra spread evenly
    /// through `source`, so that the cost does not grow with the observation's length. Channels
    /// with no variance, or a standard deviation over `maskFactor` times the median channel's
    /// (interference) or under 1/`maskFactor` of it, are masked. Leaves the source at spectrum 0.
    public static func measure(
        _ source: SpectrumSource, blocks: Int = 32, blockLength: Int = 1024, maskFactor: Float = 4
    ) throws -> ChannelWeights {
        let nch = source.channelCount
        let total = source.spectrumCount
        let length = min(blockLength, total)
        let count = max(1, min(blocks, total / max(1, length)))
        var sum = [Double](repeating: 0, count: nch)
        var sumSq = [Double](repeating: 0, count: nch)
        var n = 0
        var buffer = [Float](repeating: 0, count: length * nch)
        for b in 0..<count {
            let start = count == 1 ? 0 : (total - length) * b / (count - 1)
            try source.seek(toSpectrum: start)
            let got = try buffer.withUnsafeMutableBufferPointer { try source.read(into: $0, count: length) }
            buffer.withUnsafeBufferPointer { x in
                for s in 0..<got {
                    let row = x.baseAddress! + s * nch
                    for c in 0..<nch {
                        let v = Double(row[c])
                        sum[c] += v
                        sumSq[c] += v * v
                    }
                }
            }
            n += got
        }
        try source.seek(toSpectrum: 0)
        guard n > 1 else { return .uniform(channels: nch) }
        var means = [Float](repeating: 0, count: nch)
        var stds = [Float](repeating: 0, count: nch)
        for c in 0..<nch {
            let mean = sum[c] / Double(n)
            means[c] = Float(mean)
            stds[c] = Float(max(0, sumSq[c] / Double(n) - mean * mean).squareRoot())
        }
        let positive = stds.filter { $0 > 0 }.sorted()
        let median = positive.isEmpty ? 0 : positive[positive.count / 2]
        var weights = [Float](repeating: 0, count: nch)
        for c in 0..<nch {
            let s = stds[c]
            if s > 0 && s <= maskFactor * median && s >= median / maskFactor { weights[c] = 1 / s }
        }
        return ChannelWeights(means: means, weights: weights)
    }
}
