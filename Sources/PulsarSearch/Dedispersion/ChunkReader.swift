import CSearchKernels
import Foundation

/// Reads spectra, downsamples, normalises each channel and transposes to channel-major rows.
/// Past the end of the data it writes zeros (the normalised mean).
final class ChunkReader {
    let source: SpectrumSource
    let weights: ChannelWeights
    let downsample: Int
    let length: Int
    private var produced = 0
    private var raw: [Float] = []
    /// Spectra read and transposed at a time: about 1 MB of floats, so they stay in cache between.
    private var blockSpectra: Int { max(64, 262_144 / max(1, source.channelCount)) }

    init(source: SpectrumSource, weights: ChannelWeights, downsample: Int, length: Int) {
        self.source = source
        self.weights = weights
        self.downsample = downsample
        self.length = length
    }

    /// Writes `count` downsampled samples of every channel at column `at` of rows of width `stride`.
    func fill(_ channels: UnsafeMutablePointer<Float>, stride: Int, at column: Int, count: Int) throws {
        let nch = source.channelCount
        let ds = downsample
        let samplesPerBlock = max(1, blockSpectra / ds)
        if raw.count < samplesPerBlock * ds * nch { raw = [Float](repeating: 0, count: samplesPerBlock * ds * nch) }
        var written = 0
        let offsets = weights.means.map { $0 * Float(ds) }
        while written < count {
            let want = min(samplesPerBlock, count - written, max(0, length - produced))
            var got = 0
            if want > 0 {
                let spectra = try raw.withUnsafeMutableBufferPointer { try source.read(into: $0, count: want * ds) }
                got = spectra / ds
            }
            if got == 0 {
                for c in 0..<nch {
                    (channels + c * stride + column + written).update(repeating: 0, count: count - written)
                }
                return
            }
            raw.withUnsafeMutableBufferPointer { x in
                let base = x.baseAddress!
                if ds > 1 {
                    // Sum each run of `ds` spectra into row t, in order (row t never overlaps run t's
                    // later spectra).
                    for t in 0..<got {
                        let dst = base + t * nch, first = base + t * ds * nch
                        if t > 0 { dst.update(from: first, count: nch) }
                        for i in 1..<ds {
                            let next = first + i * nch
                            for c in 0..<nch { dst[c] += next[c] }
                        }
                    }
                }
                xx_transpose_normalise(base, got, nch, offsets, weights.weights, channels + column + written, stride)
            }
            written += got
            produced += got
        }
    }
}
