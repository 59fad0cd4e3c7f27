import CSearchKernels

/// A bin whose harmonic sum passed the detection threshold.
public struct HarmonicPeak: Sendable, Equatable {
    /// Index of the highest summed harmonic; the fundamental lies at `bin / harmonics` Fourier bins.
    public var bin: Int
    /// Number of harmonics summed (1, 2, 4, ...).
    public var harmonics: Int
    /// Summed normalised power.
    public var power: Float

    /// Fundamental position in Fourier bins.
    public var fundamentalBin: Double { Double(bin) / Double(harmonics) }
}

/// Incoherent harmonic summing over 1, 2, 4, ... harmonics with threshold detection.
///
/// Sums are indexed by the bin of their highest harmonic `k`, so every stage keeps the spectrum's
/// full resolution: the 2n-harmonic sum at `k` is the n-harmonic sum at `k/2` (its even harmonics)
/// plus the odd harmonics at `(j k + n) / 2n`. The arithmetic runs in `CSearchKernels`: for eight
/// consecutive `k` each harmonic's bins lie within eight consecutive powers, so one vector load and
/// one permute serve eight sums.
public final class HarmonicSummer {
    private var sums: [Float] = []
    private var next: [Float] = []
    private var crossingBins: [Int64] = []
    private var crossingPowers: [Float] = []

    /// Floats that must follow the last bin in the `powers` buffer (read, never used).
    public static let padding = 16

    /// Most threshold crossings recorded per stage (RFI can light up whole spectra).
    public var maxCrossingsPerStage = 1 << 16

    public init() {}

    /// Sums the first `bins` values of `powers` (normalised to unit-mean noise; the buffer holds
    /// `padding` more readable floats) and returns local maxima above `thresholds[s]` for stage `s`
    /// (2^s harmonics). Fundamentals below `lowestBin` are not reported.
    public func search(
        powers: UnsafeBufferPointer<Float>, bins: Int, thresholds: [Float], lowestBin: Int
    ) -> [HarmonicPeak] {
        precondition(powers.count >= bins + Self.padding)
        guard bins > 64, let p = powers.baseAddress else { return [] }
        var peaks: [HarmonicPeak] = []
        let capacity = maxCrossingsPerStage
        if crossingBins.count != capacity {
            crossingBins = [Int64](repeating: 0, count: capacity)
            crossingPowers = [Float](repeating: 0, count: capacity)
        }
        var crossings: [(Int, Float)] = []
        func gather(_ found: Int) {
            crossings.removeAll(keepingCapacity: true)
            for i in 0..<min(found, capacity) { crossings.append((Int(crossingBins[i]), crossingPowers[i])) }
        }

        // Stage 0: single harmonic.
        let single = crossingBins.withUnsafeMutableBufferPointer { ck in
            crossingPowers.withUnsafeMutableBufferPointer { cv in
                xx_threshold_scan(p, bins, thresholds[0], max(1, lowestBin), ck.baseAddress!, cv.baseAddress!, capacity)
            }
        }
        gather(single)
        Self.collectPeaks(crossings, harmonics: 1, into: &peaks)

        if sums.count < bins + Self.padding {
            sums = [Float](repeating: 0, count: bins + Self.padding)
            next = [Float](repeating: 0, count: bins + Self.padding)
        }
        var n = 1
        for stage in 1..<thresholds.count {
            let twoN = 2 * n
            let group = max(8, twoN)
            let count = (bins / group) * group
            guard count >= group else { break }
            let firstK = max(1, lowestBin) * twoN
            let found = sums.withUnsafeBufferPointer { previous in
                next.withUnsafeMutableBufferPointer { out in
                    crossingBins.withUnsafeMutableBufferPointer { ck in
                        crossingPowers.withUnsafeMutableBufferPointer { cv in
                            let prev = stage == 1 ? p : previous.baseAddress!
                            let o = out.baseAddress!
                            // The last stage's sums feed nothing: only its crossings are kept.
                            let last = stage == thresholds.count - 1
                            let found = xx_harmonic_stage(
                                p, prev, last ? nil : o, count, Int32(n), thresholds[stage], firstK,
                                ck.baseAddress!, cv.baseAddress!, capacity)
                            // Bins past the last whole group, and the padding, read as zero.
                            if !last { (o + count).update(repeating: 0, count: out.count - count) }
                            return found
                        }
                    }
                }
            }
            gather(found)
            swap(&sums, &next)
            n = twoN
            Self.collectPeaks(crossings, harmonics: n, into: &peaks)
        }
        return peaks
    }

    /// Reduces runs of adjacent crossings (within two bins) to their maximum.
    static func collectPeaks(_ crossings: [(Int, Float)], harmonics: Int, into peaks: inout [HarmonicPeak]) {
        var i = 0
        while i < crossings.count {
            var best = crossings[i]
            var last = crossings[i].0
            var j = i + 1
            while j < crossings.count && crossings[j].0 - last <= 2 {
                if crossings[j].1 > best.1 { best = crossings[j] }
                last = crossings[j].0
                j += 1
            }
            peaks.append(HarmonicPeak(bin: best.0, harmonics: harmonics, power: best.1))
            i = j
        }
    }
}
