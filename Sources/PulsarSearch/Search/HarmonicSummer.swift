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
/// Sums are indexed by the bin k of their highest harmonic, so every stage keeps the spectrum's
/// full resolution (the fundamental of an N-harmonic sum at k lies at k / N, in steps of 1/N bin):
///
///     S_N[k] = sum over h = 1...N of P[round(h k / N)],   round(x) = floor(x + 1/2)
///
/// which is PRESTO's rounding of each harmonic's fractional bin. The even harmonics of the
/// 2n-harmonic sum at k are the n-harmonic sum at the same k, so each stage adds only its odd
/// fractions j k / 2n to the previous stage's sums, in place. The arithmetic runs in
/// `CSearchKernels`: for eight consecutive k each harmonic's bins lie within eight consecutive
/// powers, so one vector load and one permute serve eight sums.
public final class HarmonicSummer {
    /// Sums of the current block of top bins (`width` + 32 floats), and the threshold crossings of
    /// each stage (`capacity` per stage).
    private var sumStorage = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)
    private var binStorage = UnsafeMutableBufferPointer<Int64>(start: nil, count: 0)
    private var powerStorage = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)
    private var layout = (stages: 0, width: 0, capacity: 0)

    /// Floats that must follow the last bin in the `powers` buffer (read, never used).
    public static let padding = 16

    /// Top bins summed per block. Every stage of top bins [k0, k1) reads its odd fractions from
    /// powers [j k0 / 2n, j k1 / 2n) and the previous stage's sums of the same k, so a block's sums
    /// and the powers it reads stay in the L2 cache while every stage is computed.
    public var blockBins = 4096

    /// Most threshold crossings recorded per stage (RFI can light up whole spectra).
    public var maxCrossingsPerStage = 1 << 16

    public init() {}

    deinit { release() }

    private func release() {
        sumStorage.deallocate()
        binStorage.deallocate()
        powerStorage.deallocate()
    }

    private func reserve(stages: Int, width: Int, capacity: Int) {
        guard layout != (stages, width, capacity) else { return }
        release()
        sumStorage = .allocate(capacity: width + 32)
        sumStorage.initialize(repeating: 0)
        binStorage = .allocate(capacity: stages * capacity)
        powerStorage = .allocate(capacity: stages * capacity)
        layout = (stages, width, capacity)
    }

    /// Sums the first `bins` values of `powers` (normalised to unit-mean noise; the buffer holds
    /// `padding` more readable floats) and returns local maxima above `thresholds[s]` for stage `s`
    /// (2^s harmonics). Fundamentals below `lowestBin` are not reported.
    ///
    /// Stage 0 covers every bin; the others every top bin k below `bins` rounded down to a
    /// multiple of 8.
    public func search(
        powers: UnsafeBufferPointer<Float>, bins: Int, thresholds: [Float], lowestBin: Int
    ) -> [HarmonicPeak] {
        precondition(powers.count >= bins + Self.padding)
        guard bins > 64, powers.baseAddress != nil, !thresholds.isEmpty else { return [] }
        let stages = thresholds.count
        let capacity = maxCrossingsPerStage
        reserve(stages: stages, width: max(8, blockBins / 8 * 8), capacity: capacity)
        var found = [Int](repeating: 0, count: stages)
        let first = max(1, lowestBin)
        let ck = (0..<stages).map { binStorage.baseAddress! + $0 * capacity }
        let cv = (0..<stages).map { powerStorage.baseAddress! + $0 * capacity }
        sumBlocks(powers: powers, bins: bins, stages: stages) { s, kBegin, kEnd, prev, prevBase, out in
            if s == 0 {
                found[0] += xx_threshold_scan(
                    prev, kEnd, thresholds[0], max(first, kBegin), ck[0] + min(found[0], capacity),
                    cv[0] + min(found[0], capacity), max(0, capacity - found[0]))
                return
            }
            found[s] += xx_harmonic_stage_range(
                powers.baseAddress!, prev, prevBase, s == stages - 1 ? nil : out, kBegin, kEnd,
                Int32(1 << (s - 1)), thresholds[s], first << s, ck[s] + min(found[s], capacity),
                cv[s] + min(found[s], capacity), max(0, capacity - found[s]))
        }
        var peaks: [HarmonicPeak] = []
        var crossings: [(Int, Float)] = []
        for s in 0..<stages {
            crossings.removeAll(keepingCapacity: true)
            for i in 0..<min(found[s], capacity) { crossings.append((Int(ck[s][i]), cv[s][i])) }
            Self.collectPeaks(crossings, harmonics: 1 << s, into: &peaks)
        }
        return peaks
    }

    /// The `harmonics`-harmonic sums S_N[k] at every top bin k below `bins` rounded down to a
    /// multiple of 8 (all of `bins` for one harmonic): the values `search` compares with its
    /// thresholds, for verification (and tests) against the definition.
    public func sums(powers: UnsafeBufferPointer<Float>, bins: Int, harmonics: Int) -> [Float] {
        precondition(powers.count >= bins + Self.padding && harmonics >= 1 && harmonics & (harmonics - 1) == 0)
        let stages = harmonics.trailingZeroBitCount + 1
        if stages == 1 { return Array(powers.prefix(bins)) }
        reserve(stages: stages, width: max(8, blockBins / 8 * 8), capacity: layout.capacity)
        var result = [Float](repeating: 0, count: bins / 8 * 8)
        result.withUnsafeMutableBufferPointer { r in
            sumBlocks(powers: powers, bins: bins, stages: stages) { s, kBegin, kEnd, prev, prevBase, out in
                guard s > 0 else { return }
                _ = xx_harmonic_stage_range(
                    powers.baseAddress!, prev, prevBase, out, kBegin, kEnd, Int32(1 << (s - 1)),
                    .infinity, 0, nil, nil, 0)
                if s == stages - 1 { (r.baseAddress! + kBegin).update(from: out, count: kEnd - kBegin) }
            }
        }
        return result
    }

    /// Walks the top bins in blocks and calls `stage(s, kBegin, kEnd, prev, prevBase, out)` for
    /// each stage in turn: `prev` holds the previous stage's sums from index `prevBase` (the powers
    /// themselves for stages 0 and 1) and `out` receives stage `s`'s sums of [kBegin, kEnd).
    private func sumBlocks(
        powers: UnsafeBufferPointer<Float>, bins: Int, stages: Int,
        _ stage: (Int, Int, Int, UnsafePointer<Float>, Int, UnsafeMutablePointer<Float>) -> Void
    ) {
        let p = powers.baseAddress!
        let width = layout.width
        let summed = bins / 8 * 8
        let acc = sumStorage.baseAddress!
        var k0 = 0
        while k0 < bins {
            let k1 = min(k0 + width, bins)
            stage(0, k0, k1, p, 0, acc)
            let kEnd = min(k1, summed)
            if k0 < kEnd {
                for s in 1..<stages {
                    stage(s, k0, kEnd, s == 1 ? p : UnsafePointer(acc), s == 1 ? 0 : k0, acc)
                }
            }
            k0 = k1
        }
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
