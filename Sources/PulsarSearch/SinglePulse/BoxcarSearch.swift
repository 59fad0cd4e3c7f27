import Foundation

/// One boxcar detection in one dedispersed series, before clustering.
public struct SinglePulseHit: Sendable, Equatable, Codable {
    /// Index of the DM trial and its DM.
    public var dmIndex: Int
    public var dm: Double
    /// First sample of the boxcar and its width, in samples of the series.
    public var start: Int
    public var width: Int
    /// Sample time of the series (the trial's downsampled time), seconds.
    public var sampleTime: Double
    /// Matched-filter S/N: the boxcar sum of the normalised series over sqrt(width).
    public var snr: Float

    /// Centre of the boxcar in seconds from the start of the series (arrival at the top of the band).
    public var time: Double { (Double(start) + 0.5 * Double(width)) * sampleTime }
    public var widthSeconds: Double { Double(width) * sampleTime }
}

/// Matched filtering of a dedispersed series with boxcars, as PRESTO's single_pulse_search.py and
/// Heimdall do: the series is normalised block by block with its median and median absolute
/// deviation (so red noise and steps do not make false events), then every boxcar width is slid
/// over it through prefix sums, and each run of samples above the threshold gives one hit, at its
/// strongest sample. Before the normalisation a running mean over ``detrendWindow`` samples (8
/// times the widest boxcar) is subtracted: slow baseline wander (gain drifts, red noise common to
/// the channels, which adds coherently in the dedispersed series) would otherwise fire the wide
/// boxcars.
public struct BoxcarSearch: Sendable {
    /// Boxcar widths in samples.
    public var widths: [Int]
    /// Lowest S/N reported.
    public var threshold: Float
    /// Samples per normalisation block (at least 16 times the widest boxcar).
    public var normalisationBlock: Int
    /// Samples of the running mean subtracted first (8 times the widest boxcar, at least 64).
    public var detrendWindow: Int
    /// Most hits kept per series (the strongest): a series full of interference cannot flood the clustering.
    public var maxHits: Int = 20_000

    public init(widths: [Int], threshold: Float, normalisationBlock: Int) {
        self.widths = widths
        self.threshold = threshold
        self.normalisationBlock = max(normalisationBlock, 16 * (widths.max() ?? 1))
        self.detrendWindow = max(64, 8 * (widths.max() ?? 1))
    }

    /// The boxcar search of a series sampled every `sampleTime` seconds: widths from one sample to
    /// `maxWidth` seconds (``widths(maxSeconds:sampleTime:)``), normalisation blocks of
    /// `normalisationSeconds` (at least 64 samples), at most `maxHits` hits kept.
    public init(maxWidth: Double, sampleTime: Double, threshold: Double, normalisationSeconds: Double, maxHits: Int) {
        self.init(
            widths: Self.widths(maxSeconds: maxWidth, sampleTime: sampleTime), threshold: Float(threshold),
            normalisationBlock: max(64, Int(normalisationSeconds / sampleTime)))
        self.maxHits = maxHits
    }

    /// `series` less its running mean over ``detrendWindow`` samples (centred; shorter at the ends).
    public func detrend(_ series: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) {
        let n = series.count, half = detrendWindow / 2
        var prefix = [Double](repeating: 0, count: n + 1)
        for i in 0..<n { prefix[i + 1] = prefix[i] + Double(series[i]) }
        for i in 0..<n {
            let lo = max(0, i - half), hi = min(n, i + half + 1)
            output[i] = series[i] - Float((prefix[hi] - prefix[lo]) / Double(hi - lo))
        }
    }

    /// Log-spaced widths from one sample to `maxSeconds` (about 1.5x apart, as PRESTO's list).
    public static func widths(maxSeconds: Double, sampleTime: Double) -> [Int] {
        let top = max(1, Int(maxSeconds / sampleTime))
        var list: [Int] = []
        var w = 1.0
        while Int(w.rounded()) <= top {
            let n = Int(w.rounded())
            if list.last != n { list.append(n) }
            w = max(w + 1, w * 1.5)
        }
        return list
    }

    /// Writes `series` normalised block by block into `output`: (x - median) / (1.4826 MAD). A
    /// block of constant data (MAD 0) becomes 0.
    public func normalise(_ series: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) {
        let n = series.count
        var start = 0
        let room = min(n, 2 * normalisationBlock)
        let deviations = UnsafeMutablePointer<Float>.allocate(capacity: room), scratch = UnsafeMutablePointer<Float>.allocate(capacity: room)
        defer { deviations.deallocate(); scratch.deallocate() }
        while start < n {
            // The last block takes the remainder rather than leave a short one.
            let end = n - start < 2 * normalisationBlock ? n : start + normalisationBlock
            let count = end - start
            let block = UnsafeBufferPointer(rebasing: series[start..<end])
            let median = Robust.select(block, count / 2, scratch: scratch)
            for i in 0..<count { deviations[i] = abs(block[i] - median) }
            let sigma = 1.4826 * Robust.select(UnsafeBufferPointer(start: deviations, count: count), count / 2, scratch: scratch)
            let scale: Float = sigma > 0 ? 1 / sigma : 0
            for i in start..<end { output[i] = (series[i] - median) * scale }
            start = end
        }
    }

    /// The series detrended and normalised, and its prefix sums (index t: the sum of the first t).
    func prepared(_ series: UnsafeBufferPointer<Float>) -> [Double] {
        let n = series.count
        let normalised = UnsafeMutableBufferPointer<Float>.allocate(capacity: n)
        let detrended = UnsafeMutableBufferPointer<Float>.allocate(capacity: n)
        defer { normalised.deallocate(); detrended.deallocate() }
        detrend(series, into: detrended)
        normalise(UnsafeBufferPointer(detrended), into: normalised)
        // Prefix sums in Double: sums of up to millions of unit-variance samples stay exact enough.
        var prefix = [Double](repeating: 0, count: n + 1)
        for i in 0..<n { prefix[i + 1] = prefix[i] + Double(normalised[i]) }
        return prefix
    }

    /// Samples between the boxcars of width `w` that are evaluated: a quarter of the width (a pulse
    /// then loses at most an eighth of its boxcar to misalignment, under 7% of its S/N).
    public static func step(width w: Int) -> Int { max(1, w / 4) }

    /// Values of each width's output that estimate its median and MAD: every `statisticsStride`-th.
    public static let statisticsStride = 8

    /// S/N of the boxcars of `w` samples starting at samples 0, step, 2 step, ...,
    /// normalised by the median and MAD of (every ``statisticsStride``-th of) them, as Heimdall
    /// does: noise that is not white (what the detrending leaves) then gives unit-variance S/N at
    /// every width. Empty when flat.
    func snrs(prefix: [Double], width w: Int, step: Int) -> [Float] {
        guard let (boxcars, median, scale) = boxcarSums(prefix: prefix, width: w, step: step) else { return [] }
        var sums = boxcars
        for i in sums.indices { sums[i] = (sums[i] - median) * scale }
        return sums
    }

    /// The boxcar sums ``snrs(prefix:width:step:)`` normalises, with their median and the scale
    /// 1 / (1.4826 MAD); nil when flat. The S/N of sum `s` is `(s - median) * scale`.
    func boxcarSums(prefix: [Double], width w: Int, step: Int) -> (sums: [Float], median: Float, scale: Float)? {
        let span = prefix.count - w
        guard span > 0 else { return nil }
        let count = (span - 1) / step + 1
        var filtered = [Float](repeating: 0, count: count)
        for i in 0..<count { filtered[i] = Float(prefix[i * step + w] - prefix[i * step]) }
        var sample = stride(from: 0, to: count, by: Self.statisticsStride).map { filtered[$0] }
        let half = sample.count / 2
        let m = sample.withUnsafeMutableBufferPointer { c -> Float in Robust.quickselect(c, half); return c[half] }
        for i in sample.indices { sample[i] = abs(sample[i] - m) }
        let mad = sample.withUnsafeMutableBufferPointer { c -> Float in Robust.quickselect(c, half); return c[half] }
        guard mad > 0 else { return nil }
        return (filtered, m, 1 / (1.4826 * mad))
    }

    /// The hits of one dedispersed series.
    public func search(_ series: UnsafeBufferPointer<Float>, sampleTime: Double, dm: Double, dmIndex: Int) -> [SinglePulseHit] {
        guard series.count > 0 else { return [] }
        let prefix = prepared(series)
        var hits: [SinglePulseHit] = []
        for w in widths where w <= series.count {
            let step = Self.step(width: w)
            // Normalised as they are scanned: one pass over each width's sums.
            guard let (sums, median, scale) = boxcarSums(prefix: prefix, width: w, step: step) else { continue }
            var best: (start: Int, snr: Float)? = nil
            for i in sums.indices {
                let snr = (sums[i] - median) * scale
                if snr >= threshold {
                    if best == nil || snr > best!.snr { best = (i * step, snr) }
                } else if let b = best {
                    hits.append(SinglePulseHit(dmIndex: dmIndex, dm: dm, start: b.start, width: w, sampleTime: sampleTime, snr: b.snr))
                    best = nil
                }
            }
            if let b = best {
                hits.append(SinglePulseHit(dmIndex: dmIndex, dm: dm, start: b.start, width: w, sampleTime: sampleTime, snr: b.snr))
            }
        }
        if hits.count > maxHits { hits = Array(hits.sorted { $0.snr > $1.snr }.prefix(maxHits)) }
        return hits
    }

    /// The strongest S/N of a boxcar of `width` samples centred within `window` samples of sample
    /// `centre` (0 when the series is flat).
    public func peakSNR(_ series: UnsafeBufferPointer<Float>, width: Int, centre: Int, window: Int) -> Float {
        // Every start, not every quarter width: a DM curve wants the peak, not a detection.
        let snr = snrs(prefix: prepared(series), width: width, step: 1)
        let lo = max(0, centre - width / 2 - window), hi = min(snr.count, centre - width / 2 + window + 1)
        guard lo < hi else { return 0 }
        return snr[lo..<hi].max() ?? 0
    }
}
