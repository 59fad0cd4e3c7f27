import CSearchKernels

/// Red-noise whitening of a power spectrum.
///
/// The local noise level is the running median of the powers, estimated by a cascade of medians of
/// five (each level takes the median of five consecutive values of the level below, so level L
/// summarises 5^L bins). For independent noise the median of five has exactly the population median
/// as its own median, so the cascade is median-unbiased, robust to pulsar harmonics and RFI spikes,
/// and costs one pass of compare-exchanges (`xx_median5`). Windows are 25 bins below bin 125, 125 bins below bin
/// 3125 and 625 bins above, short where red noise changes fast (the Einstein@Home BRP app uses a
/// running median of ~1000 bins). Powers are divided by median / ln 2, which makes noise powers
/// exponential with unit mean. The median is tabulated every `segment` bins and interpolated.
public final class SpectrumWhitener {
    /// Bins between tabulated medians.
    public static let segment = 32
    /// Levels 1...4 of the cascade (level 0, the powers, is not stored); `levels[l].count` is the
    /// number of complete groups: bins / 5^l.
    private var levels: [[Float]] = [[], [], [], [], []]
    /// Median at bins 0, segment, 2 segment, ... (and one past the end).
    private var table: [Float] = []

    public init() {}

    /// Level (window 5^level bins) used for bin `k`.
    @inline(__always)
    static func level(forBin k: Int) -> Int {
        k < 125 ? 2 : (k < 3125 ? 3 : 4)
    }

    private func reserve(bins: Int) {
        var count = bins
        for l in 1...4 {
            count /= 5
            if levels[l].count != count { levels[l] = [Float](repeating: 0, count: count) }
        }
        let entries = bins / Self.segment + 2
        if table.count != entries { table = [Float](repeating: 0, count: entries) }
    }

    /// Estimates the local medians of `powers` (bin 0, DC, is ignored).
    public func estimate(_ powers: UnsafeBufferPointer<Float>) {
        reserve(bins: powers.count)
        if let p = powers.baseAddress, !levels[1].isEmpty {
            levels[1].withUnsafeMutableBufferPointer { xx_median5(p, $0.baseAddress!, $0.count) }
        }
        for l in 2...4 where !levels[l].isEmpty {
            let below = levels[l - 1]
            levels[l].withUnsafeMutableBufferPointer { out in
                below.withUnsafeBufferPointer { xx_median5($0.baseAddress!, out.baseAddress!, out.count) }
            }
        }
        for i in 0..<table.count { table[i] = cascadeMedian(atBin: i * Self.segment, available: nil)! }
    }

    /// Computes the powers of `powers.count` interleaved complex values into `powers`, estimates
    /// their local medians and normalises them: the same values as `xx_powers`, `estimate` and
    /// `normalize` in turn, in one pass over the spectrum. The cascade is built chunk by chunk and
    /// each 32-bin segment is normalised as soon as the medians it needs exist (about two
    /// thousand bins behind), while its powers are still in cache.
    public func whiten(powersOf complex: UnsafePointer<Float>, into powers: UnsafeMutableBufferPointer<Float>) {
        let bins = powers.count
        reserve(bins: bins)
        guard bins > 0, let p = powers.baseAddress else { return }
        let chunk = 6250  // a multiple of 5^4: every chunk completes whole groups at every level
        var done = [0, 0, 0, 0, 0]  // values computed per level (level 0: powers)
        var tabulated = 0
        var normalized = 0  // segments
        let segments = (bins + Self.segment - 1) / Self.segment
        while done[0] < bins {
            let start = done[0], end = min(bins, start + chunk)
            levels[1].withUnsafeMutableBufferPointer { l1 in
                xx_powers_median5(complex + 2 * start, p + start, l1.baseAddress.map { $0 + start / 5 }, end - start)
            }
            done[0] = end
            done[1] = levels[1].count == 0 ? 0 : min(levels[1].count, end / 5)
            for l in 2...4 where !levels[l].isEmpty {
                let target = min(levels[l].count, done[l - 1] / 5)
                guard target > done[l] else { continue }
                let from = done[l]
                let below = levels[l - 1]
                levels[l].withUnsafeMutableBufferPointer { out in
                    below.withUnsafeBufferPointer {
                        xx_median5($0.baseAddress! + 5 * from, out.baseAddress! + from, target - from)
                    }
                }
                done[l] = target
            }
            while tabulated < table.count, let m = cascadeMedian(atBin: tabulated * Self.segment, available: done) {
                table[tabulated] = m
                tabulated += 1
            }
            // A segment needs both its medians and all its powers (the last bins of the spectrum
            // belong to no complete group of five, so the cascade can finish before them).
            let whole = end == bins ? segments : end / Self.segment
            let ready = min(whole, max(0, tabulated - 1))
            if ready > normalized {
                table.withUnsafeBufferPointer { xx_normalize_segments($0.baseAddress!, p, bins, normalized, ready) }
                normalized = ready
            }
        }
        precondition(tabulated == table.count && normalized == segments)
        p[0] = 0
    }

    /// The cascade's median at bin `k`, or nil when a value it needs is not yet among the first
    /// `available[l]` of level `l` (nil `available`: all are).
    private func cascadeMedian(atBin k: Int, available: [Int]?) -> Float? {
        var l = Self.level(forBin: k)
        while l > 1 && levels[l].count < 2 { l -= 1 }
        return levels[l].withUnsafeBufferPointer { values -> Float? in
            guard !values.isEmpty else { return 1 }
            let have = available?[l] ?? values.count
            var width = 1
            for _ in 0..<l { width *= 5 }
            let x = Float(k) / Float(width) - 0.5
            if x <= 0 { return have > 0 ? values[0] : nil }
            let i = Int(x)
            if i >= values.count - 1 { return have >= values.count ? values[values.count - 1] : nil }
            guard i + 1 < have else { return nil }
            let f = x - Float(i)
            return values[i] * (1 - f) + values[i + 1] * f
        }
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
