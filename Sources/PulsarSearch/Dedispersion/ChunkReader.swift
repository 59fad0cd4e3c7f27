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
    /// The source's stored bytes, when it has unsigned 8-bit samples and nothing is downsampled:
    /// they go straight into the rows, widened once.
    private let bytes: ByteSpectrumSource?
    /// Whether samples come as stored bytes, widened once (unsigned 8-bit, not downsampled).
    var readsBytes: Bool { bytes != nil }
    private var rawBytes: [UInt8] = []
    /// Spectra read and transposed at a time: about 1 MB of floats, so they stay in cache between.
    private var blockSpectra: Int { max(64, 262_144 / max(1, source.channelCount)) }

    init(source: SpectrumSource, weights: ChannelWeights, downsample: Int, length: Int) {
        self.source = source
        self.weights = weights
        self.downsample = downsample
        self.length = length
        let bytes = source as? ByteSpectrumSource
        self.bytes = downsample == 1 && bytes?.hasUnsignedBytes == true ? bytes : nil
    }

    /// Writes `count` downsampled samples of every channel at column `at` of rows of width `stride`.
    func fill(_ channels: UnsafeMutablePointer<Float>, stride: Int, at column: Int, count: Int) throws {
        let nch = source.channelCount
        let ds = downsample
        let samplesPerBlock = max(1, blockSpectra / ds)
        var written = 0
        let offsets = weights.means.map { $0 * Float(ds) }
        while written < count {
            let want = min(samplesPerBlock, count - written, max(0, length - produced))
            let got = want == 0 ? 0 : try read(want, into: channels + column + written, stride: stride, offsets: offsets)
            if got == 0 {
                for c in 0..<nch {
                    (channels + c * stride + column + written).update(repeating: 0, count: count - written)
                }
                return
            }
            written += got
            produced += got
        }
    }

    /// Reads up to `want` downsampled samples of every channel into column 0 of `out`'s rows;
    /// returns how many (0 at the end).
    private func read(_ want: Int, into out: UnsafeMutablePointer<Float>, stride: Int, offsets: [Float]) throws -> Int {
        let nch = source.channelCount, ds = downsample
        if let bytes {
            if rawBytes.count < want * nch { rawBytes = [UInt8](repeating: 0, count: want * nch) }
            let got = try rawBytes.withUnsafeMutableBufferPointer { try bytes.readBytes(into: $0, count: want) }
            xx_transpose_normalise_u8(rawBytes, got, nch, offsets, weights.weights, out, stride)
            return got
        }
        if raw.count < want * ds * nch { raw = [Float](repeating: 0, count: want * ds * nch) }
        let got = try raw.withUnsafeMutableBufferPointer { try source.read(into: $0, count: want * ds) } / ds
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
            xx_transpose_normalise(base, got, nch, offsets, weights.weights, out, stride)
        }
        return got
    }
}
