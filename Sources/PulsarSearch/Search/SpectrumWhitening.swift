import CSearchKernels

/// Red-noise whitening of a power spectrum by exact block medians, as PRESTO's `rednoise` does.
///
/// The spectrum above bin 0 (DC, set to 0) is cut into consecutive blocks whose width grows with
/// frequency: a quarter of the block's first bin, at least `minimumWidth` and at most
/// `maximumWidth` bins (PRESTO grows its blocks from 6 to 200 bins). Red noise changes by a factor
/// (1 + w / k)^a across a block of width w at bin k, so narrow blocks at low frequencies follow it;
/// at high frequencies, where it is flat, wide blocks keep the median's scatter small: the median
/// of n exponential powers has a relative scatter of 1 / (ln 2 sqrt n), 3% for 2048 bins but 10% for
/// 200, and a 10% error in the noise level moves the false-alarm probability of a 7-sigma power by
/// an order of magnitude. The median of each block is exact (quickselect) and robust to pulsar
/// harmonics and RFI; the local median is interpolated linearly between block centres (constant
/// before the first and after the last), and each power is divided by median / ln 2, which makes
/// noise powers exponential with unit mean.
public final class SpectrumWhitener {
    /// The narrowest block, in bins.
    public static let minimumWidth = 32
    /// The widest block, in bins.
    public static let maximumWidth = 2048

    /// First bin of each block, and one past the last block's end.
    private var bounds: [Int] = []
    /// Centre of each block (the mean of its first and last bin).
    private var centres: [Float] = []
    /// Median power of each block.
    private var medians: [Float] = []
    /// Room for the widest block's copy (sized by `plan`).
    private var scratch: [Float] = []
    private var plannedBins = -1

    public init() {}

    /// The blocks for a spectrum of `bins` bins: consecutive ranges covering 1 ..< bins.
    public static func blocks(bins: Int) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var start = 1
        while start < bins {
            let width = min(maximumWidth, max(minimumWidth, start / 4))
            var end = min(bins, start + width)
            // A remainder shorter than half a block joins the block before it.
            if bins - end < width / 2 { end = bins }
            ranges.append(start..<end)
            start = end
        }
        return ranges
    }

    private func plan(bins: Int) {
        guard bins != plannedBins else { return }
        let ranges = Self.blocks(bins: bins)
        bounds = ranges.map(\.lowerBound) + [bins]
        centres = ranges.map { Float($0.lowerBound + $0.upperBound - 1) / 2 }
        medians = [Float](repeating: 0, count: ranges.count)
        let widest = ranges.map(\.count).max() ?? 0
        if scratch.count < widest { scratch = [Float](repeating: 0, count: widest) }
        plannedBins = bins
    }

    /// Computes the block medians of `powers` (bin 0, DC, is ignored).
    public func estimate(_ powers: UnsafeBufferPointer<Float>) {
        plan(bins: powers.count)
        guard let p = powers.baseAddress else { return }
        for j in 0..<medians.count { medians[j] = blockMedian(p, j) }
    }

    @inline(__always)
    private func blockMedian(_ p: UnsafePointer<Float>, _ j: Int) -> Float {
        let start = bounds[j]
        return scratch.withUnsafeMutableBufferPointer { xx_median(p + start, bounds[j + 1] - start, $0.baseAddress!) }
    }

    /// Divides `powers` in place by (local median / ln 2), after `estimate` on the same powers;
    /// bin 0 is set to 0, and so are bins whose median is zero (a dead or zero-padded spectrum).
    public func normalize(_ powers: UnsafeMutableBufferPointer<Float>) {
        precondition(plannedBins == powers.count, "estimate first")
        guard let p = powers.baseAddress else { return }
        for j in 0...medians.count { normalizeSpan(p, before: j) }
        p[0] = 0
    }

    /// Normalises the bins between the centre of block j - 1 and that of block j (before block 0:
    /// from bin 1; after the last block: to the end), which needs the medians of both blocks.
    @inline(__always)
    private func normalizeSpan(_ p: UnsafeMutablePointer<Float>, before j: Int) {
        let count = medians.count
        guard count > 0 else { return }
        let first = j == 0 ? 1 : Int(centres[j - 1]) + 1
        let end = j == count ? plannedBins : Int(centres[j]) + 1
        guard end > first else { return }
        if j == 0 || j == count {
            let m = medians[j == 0 ? 0 : count - 1]
            // A flat stretch: equal medians at both ends.
            xx_normalize_between(p, first, end, 0, m, 1, m)
        } else {
            xx_normalize_between(p, first, end, centres[j - 1], medians[j - 1], centres[j], medians[j])
        }
    }

    /// Computes the powers of `powers.count` interleaved complex values into `powers` and whitens
    /// them: the same values as `xx_powers`, `estimate` and `normalize` in turn, in one pass over
    /// the spectrum, normalising each stretch between block centres while its powers are in cache.
    public func whiten(powersOf complex: UnsafePointer<Float>, into powers: UnsafeMutableBufferPointer<Float>) {
        let bins = powers.count
        plan(bins: bins)
        guard bins > 0, let p = powers.baseAddress else { return }
        for j in 0..<medians.count {
            let start = bounds[j]
            xx_powers(complex + 2 * start, p + start, bounds[j + 1] - start)
            medians[j] = blockMedian(p, j)
            normalizeSpan(p, before: j)
        }
        normalizeSpan(p, before: medians.count)
        p[0] = 0
    }

    /// The local median at bin `k` (after `estimate` or `whiten`): the value `normalize` divides by
    /// ln 2 at that bin, and the last block's median beyond the spectrum.
    public func median(atBin k: Int) -> Float {
        guard let last = medians.indices.last else { return 0 }
        let x = Float(k)
        if x <= centres[0] { return medians[0] }
        if x > centres[last] { return medians[last] }
        // The first block whose centre is at or beyond k.
        var lo = 1, hi = last
        while lo < hi {
            let mid = (lo + hi) / 2
            if centres[mid] < x { lo = mid + 1 } else { hi = mid }
        }
        let c0 = centres[lo - 1], m0 = medians[lo - 1]
        return m0 + (medians[lo] - m0) * ((x - c0) / (centres[lo] - c0))
    }
}
