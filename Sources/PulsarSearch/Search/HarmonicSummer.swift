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
    /// Sums of each stage for the current block of fundamentals (stage s: 2^s * width + 32 floats),
    /// and the threshold crossings of each stage (`capacity` per stage).
    private var sumStorage = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)
    private var binStorage = UnsafeMutableBufferPointer<Int64>(start: nil, count: 0)
    private var powerStorage = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)
    private var layout = (stages: 0, width: 0, capacity: 0)

    /// Floats that must follow the last bin in the `powers` buffer (read, never used).
    public static let padding = 16

    /// Fundamental bins summed per block. Stage 2n of fundamentals [f0, f1) reads harmonic j from
    /// powers [j f0, j f1) and the n-harmonic sums of the same fundamentals, so a block's sums and
    /// low harmonics stay in the L2 cache while every stage is computed, instead of streaming each
    /// stage's full-length array through memory.
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
        sumStorage = .allocate(capacity: ((1 << stages) - 1) * width + 32 * stages)
        sumStorage.initialize(repeating: 0)
        binStorage = .allocate(capacity: stages * capacity)
        powerStorage = .allocate(capacity: stages * capacity)
        layout = (stages, width, capacity)
    }

    /// Sums the first `bins` values of `powers` (normalised to unit-mean noise; the buffer holds
    /// `padding` more readable floats) and returns local maxima above `thresholds[s]` for stage `s`
    /// (2^s harmonics). Fundamentals below `lowestBin` are not reported.
    ///
    /// The 2n-harmonic sum is indexed by the bin k of its highest harmonic and computed for every k
    /// below `(bins / max(8, 2n)) * max(8, 2n)`, exactly as one full-length `xx_harmonic_stage` per
    /// stage would; only the order of the work differs.
    public func search(
        powers: UnsafeBufferPointer<Float>, bins: Int, thresholds: [Float], lowestBin: Int
    ) -> [HarmonicPeak] {
        precondition(powers.count >= bins + Self.padding)
        guard bins > 64, let p = powers.baseAddress, !thresholds.isEmpty else { return [] }
        let stages = thresholds.count
        let capacity = maxCrossingsPerStage
        let width = max(8, blockBins / 8 * 8)
        // Sums computed per stage (0 after the first stage too short to run).
        var counts = [Int](repeating: 0, count: stages)
        counts[0] = bins
        for s in 1..<stages {
            let group = max(8, 1 << s)
            let c = (bins / group) * group
            if c < group { break }
            counts[s] = c
        }
        reserve(stages: stages, width: width, capacity: capacity)
        var found = [Int](repeating: 0, count: stages)
        let first = max(1, lowestBin)
        var sums: [UnsafeMutablePointer<Float>] = []
        var offset = 0
        for s in 0..<stages {
            sums.append(sumStorage.baseAddress! + offset)
            offset += (1 << s) * width + 32
        }
        let ck = (0..<stages).map { binStorage.baseAddress! + $0 * capacity }
        let cv = (0..<stages).map { powerStorage.baseAddress! + $0 * capacity }

        func stage(_ s: Int, _ kBegin: Int, _ kEnd: Int, out: UnsafeMutablePointer<Float>?, record: Bool, f0: Int) {
            let n = 1 << (s - 1)
            let prev = s == 1 ? p : UnsafePointer(sums[s - 1])
            let prevBase = s == 1 ? 0 : n * f0
            let room = max(0, capacity - found[s])
            let got = xx_harmonic_stage_range(
                p, prev, prevBase, out, kBegin, kEnd, Int32(n), record ? thresholds[s] : .infinity,
                first << s, ck[s] + min(found[s], capacity), cv[s] + min(found[s], capacity), room)
            if record { found[s] += got }
        }

        var f0 = 0
        while f0 < bins {
            let f1 = f0 + width
            // Stage 0: the powers themselves.
            found[0] += xx_threshold_scan(
                p, min(f1, bins), thresholds[0], max(first, f0), ck[0] + min(found[0], capacity),
                cv[0] + min(found[0], capacity), max(0, capacity - found[0]))
            for s in 1..<stages {
                let kBegin = f0 << s
                let kEnd = min(f1 << s, counts[s])
                if kBegin >= kEnd { break }
                let out = s == stages - 1 ? nil : sums[s]
                stage(s, kBegin, kEnd, out: out, record: true, f0: f0)
                // Eight more sums past the block: the next stage reads the sum at n f1.
                if let out, kEnd == f1 << s, kEnd < counts[s] {
                    stage(s, kEnd, min(kEnd + 8, counts[s]), out: out + (kEnd - kBegin), record: false, f0: f0)
                }
            }
            f0 = f1
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
