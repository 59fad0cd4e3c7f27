import CSearchKernels

/// Red-noise whitening of a power spectrum.
///
/// The local noise level is the running median of the powers, estimated by a cascade of medians of
/// five (each level takes the median of five consecutive values of the level below, so level L
/// summarises 5^L bins). For independent noise the median of five has exactly the population median
/// as its own median, so the cascade is median-unbiased, robust to pulsar harmonics and RFI spikes,
/// and costs one pass of compare-exchanges. Windows are 25 bins below bin 125, 125 bins below bin
/// 3125 and 625 bins above, short where red noise changes fast (the Einstein@Home BRP app uses a
/// running median of ~1000 bins). Powers are divided by median / ln 2, which makes noise powers
/// exponential with unit mean. The median is tabulated every `segment` bins and interpolated.
public final class SpectrumWhitener {
    /// Bins between tabulated medians.
    public static let segment = 32
    private var levels: [[Float]] = [[], [], [], [], []]
    /// Median at bins 0, segment, 2 segment, ... (and one past the end).
    private var table: [Float] = []

    public init() {}

    @inline(__always)
    static func median3(_ a: Float, _ b: Float, _ c: Float) -> Float {
        max(min(a, b), min(max(a, b), c))
    }

    @inline(__always)
    static func median5(_ a: Float, _ b: Float, _ c: Float, _ d: Float, _ e: Float) -> Float {
        // The middle two of a, b, c, d, then the median of those with e.
        let second = max(min(a, b), min(c, d))
        let third = min(max(a, b), max(c, d))
        return median3(e, second, third)
    }

    private static func reduce(_ input: UnsafeBufferPointer<Float>, into output: inout [Float]) {
        let count = input.count / 5
        if output.count != count { output = [Float](repeating: 0, count: count) }
        guard count > 0, let x = input.baseAddress else { return }
        output.withUnsafeMutableBufferPointer { xx_median5(x, $0.baseAddress!, count) }
    }

    /// Level (window 5^level bins) used for bin `k`.
    @inline(__always)
    static func level(forBin k: Int) -> Int {
        k < 125 ? 2 : (k < 3125 ? 3 : 4)
    }

    /// Estimates the local medians of `powers` (bin 0, DC, is ignored).
    public func estimate(_ powers: UnsafeBufferPointer<Float>) {
        Self.reduce(powers, into: &levels[1])
        estimateAbove(bins: powers.count)
    }

    /// Computes the powers of `powers.count` interleaved complex values into `powers` and estimates
    /// their local medians, in one pass over the spectrum (the same values as `xx_powers` followed
    /// by `estimate`).
    public func estimate(powersOf complex: UnsafePointer<Float>, into powers: UnsafeMutableBufferPointer<Float>) {
        let count = powers.count / 5
        if levels[1].count != count { levels[1] = [Float](repeating: 0, count: count) }
        guard let p = powers.baseAddress else { return estimateAbove(bins: 0) }
        levels[1].withUnsafeMutableBufferPointer { xx_powers_median5(complex, p, $0.baseAddress, powers.count) }
        estimateAbove(bins: powers.count)
    }

    private func estimateAbove(bins: Int) {
        for l in 2...4 {
            levels[l - 1].withUnsafeBufferPointer { Self.reduce($0, into: &levels[l]) }
        }
        let entries = bins / Self.segment + 2
        if table.count != entries { table = [Float](repeating: 0, count: entries) }
        for i in 0..<entries { table[i] = cascadeMedian(atBin: i * Self.segment) }
    }

    private func cascadeMedian(atBin k: Int) -> Float {
        var l = Self.level(forBin: k)
        while l > 1 && levels[l].count < 2 { l -= 1 }
        let values = levels[l]
        guard !values.isEmpty else { return 1 }
        var width = 1
        for _ in 0..<l { width *= 5 }
        let x = Float(k) / Float(width) - 0.5
        if x <= 0 { return values[0] }
        let i = Int(x)
        if i >= values.count - 1 { return values[values.count - 1] }
        let f = x - Float(i)
        return values[i] * (1 - f) + values[i + 1] * f
    }

    /// The local median at bin `k` (after `estimate`).
    @inline(__always)
    public func median(atBin k: Int) -> Float {
        table.withUnsafeBufferPointer { t in
            let i = min(max(0, k / Self.segment), t.count - 2)
            let f = Float(k - i * Self.segment) / Float(Self.segment)
            return t[i] * (1 - f) + t[i + 1] * f
        }
    }

    /// Divides `powers` in place by (local median / ln 2); bin 0 is set to 0, and bins whose median
    /// is zero (a zero-padded or dead spectrum) too.
    public func normalize(_ powers: UnsafeMutableBufferPointer<Float>) {
        guard powers.count > 0, let p = powers.baseAddress else { return }
        precondition(table.count >= powers.count / Self.segment + 2, "estimate first")
        table.withUnsafeBufferPointer { xx_normalize($0.baseAddress!, p, powers.count) }
    }
}
