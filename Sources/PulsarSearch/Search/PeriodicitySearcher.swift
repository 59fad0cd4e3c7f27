import CSearchKernels
import Foundation

/// Parameters of the Fourier-domain periodicity search of one time series.
public struct SpectralSearchParameters: Sendable, Codable, Equatable {
    /// Largest number of harmonics summed: 1, 2, 4, 8, 16 or 32.
    public var maxHarmonics: Int = 16
    /// Candidates below this trial-corrected sigma are not reported.
    public var sigmaThreshold: Double = 5.0
    /// Peaks are first found on whole bins at `sigmaThreshold - detectionMargin`, then measured by
    /// Fourier interpolation; the margin keeps signals that fall between bins.
    public var detectionMargin: Double = 2.0
    /// Lowest fundamental frequency searched, Hz (red noise dominates below).
    public var minFrequency: Double = 0.2
    /// Highest fundamental frequency searched, Hz (nil: Nyquist).
    public var maxFrequency: Double? = nil
    /// Most candidates kept per series (strongest first).
    public var maxCandidates: Int = 32
    /// Interference frequencies zapped before searching.
    public var birdies: [Birdie] = []
    /// Strongest bins of every searched spectrum kept as its ``SpectrumToplist`` (0: none). Work
    /// units ask for one per series and acceleration trial, as proof of work.
    public var toplistSize: Int = 0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case maxHarmonics, sigmaThreshold, detectionMargin, minFrequency, maxFrequency, maxCandidates, birdies, toplistSize
    }

    /// Decodes the parameters; `toplistSize` may be absent (0: payloads written before toplists).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        maxHarmonics = try c.decode(Int.self, forKey: .maxHarmonics)
        sigmaThreshold = try c.decode(Double.self, forKey: .sigmaThreshold)
        detectionMargin = try c.decode(Double.self, forKey: .detectionMargin)
        minFrequency = try c.decode(Double.self, forKey: .minFrequency)
        maxFrequency = try c.decodeIfPresent(Double.self, forKey: .maxFrequency)
        maxCandidates = try c.decode(Int.self, forKey: .maxCandidates)
        birdies = try c.decode([Birdie].self, forKey: .birdies)
        toplistSize = try c.decodeIfPresent(Int.self, forKey: .toplistSize) ?? 0
    }

    /// Stages of the harmonic sum: log2(maxHarmonics) + 1.
    var stageCount: Int {
        var n = 1, s = 1
        while n < maxHarmonics { n *= 2; s += 1 }
        return s
    }
}

/// A periodicity found in one time series.
public struct SeriesCandidate: Sendable, Codable, Equatable {
    /// Fundamental frequency in Hz (at the middle of the observation for accelerated trials).
    public var frequency: Double
    /// Harmonics summed in the detection.
    public var harmonics: Int
    /// Summed normalised power after Fourier interpolation.
    public var power: Double
    /// Gaussian-equivalent sigma, corrected for the trials of this series.
    public var sigma: Double
    /// Line-of-sight acceleration of the trial, m/s^2 (positive: frequency falling).
    public var acceleration: Double
    /// Dispersion measure of the series.
    public var dm: Double
    /// Index of the DM trial in its plan (for sifting across neighbouring DMs).
    public var dmIndex: Int
    /// Duty cycle of the best boxcar of an FFA detection (``FFASearch``); nil for a Fourier
    /// detection. For an FFA detection `power` is the boxcar S/N of its fold.
    public var dutyCycle: Double? = nil
    /// Each summed harmonic measured on its own at the detection (``HarmonicMeasurement``); nil
    /// for an FFA detection, and in results from workers before harmonics were measured.
    public var harmonicMeasurements: [HarmonicMeasurement]? = nil

    /// How the detection was made.
    public var method: DetectionMethod { dutyCycle == nil ? .fft : .ffa }

    public init(frequency: Double, harmonics: Int, power: Double, sigma: Double, acceleration: Double, dm: Double, dmIndex: Int) {
        self.frequency = frequency
        self.harmonics = harmonics
        self.power = power
        self.sigma = sigma
        self.acceleration = acceleration
        self.dm = dm
        self.dmIndex = dmIndex
    }
}

/// The search that made a periodicity detection.
public enum DetectionMethod: String, Sendable, Codable, CaseIterable {
    /// The Fourier search with harmonic summing (``PeriodicitySearcher``).
    case fft
    /// The Fast Folding Algorithm (``FFASearch``).
    case ffa
}

extension SeriesCandidate {
    /// Identifies one detection: its DM trial, acceleration trial and measured frequency.
    public struct Key: Hashable, Sendable {
        public var dmIndex: Int
        public var acceleration: Double
        public var frequency: Double
    }

    public var key: Key { Key(dmIndex: dmIndex, acceleration: acceleration, frequency: frequency) }
}

/// Searches time series for periodic signals: FFTW real-to-complex transform, red-noise whitening,
/// birdie zapping, incoherent harmonic summing, Fourier-interpolated measurement of each peak and a
/// trial-corrected significance. One searcher per thread; it keeps its buffers between series.
public final class PeriodicitySearcher {
    public let parameters: SpectralSearchParameters
    private let planner: FFTPlanner
    private var workspace: FFTWorkspace?
    private var powers: [Float] = []
    private let whitener = SpectrumWhitener()
    private let summer = HarmonicSummer()
    private var thresholdCache: [String: [Float]] = [:]
    /// Bins and length (s) of the spectrum in `powers`, from the last search.
    private var lastSpectrum: (bins: Int, duration: Double)?
    /// The strongest bins of the last searched spectrum (`parameters.toplistSize` of them; empty
    /// when that is 0 or the series was too short to search).
    public private(set) var lastToplist = SpectrumToplist()
    /// Peaks the last search measured by Fourier interpolation (at most `2 x maxCandidates`, at
    /// least the candidates it returned): the part of a search's cost that depends on the data.
    public private(set) var lastPeaksMeasured = 0
    /// Time spent in each stage since creation (or `timings = .init()`).
    public var timings = SearchTimings()

    public init(planner: FFTPlanner, parameters: SpectralSearchParameters) {
        self.planner = planner
        self.parameters = parameters
    }

    /// The Fourier bins a search of `samples` samples (`tsamp` s apart) covers: from the bin of
    /// `minFrequency` (at least 1) to the Nyquist bin of the padded transform. What the search, its
    /// toplist and a checker of that toplist all count from.
    public static func searchedBins(samples: Int, tsamp: Double, minFrequency: Double) -> Range<Int> {
        let size = fftSize(forSamples: samples)
        let bins = size / 2
        let lowest = max(1, Int((minFrequency * Double(size) * tsamp).rounded(.up)))
        return min(lowest, bins)..<bins
    }

    /// The FFT length used for a series of `count` samples.
    public static func fftSize(forSamples count: Int) -> Int { FFTPlanner.goodSize(atLeast: count) }

    /// Searches `samples` (sample time `tsamp` s), resampled first for a non-zero trial
    /// `acceleration` (m/s^2). `trialsPerSeries` multiplies the independent-trial count (the number
    /// of acceleration trials searched for this series).
    public func search(
        samples: UnsafeBufferPointer<Float>, tsamp: Double, acceleration: Double = 0,
        trialsPerSeries: Int = 1, dm: Double = 0, dmIndex: Int = 0
    ) -> [SeriesCandidate] {
        lastToplist = SpectrumToplist()
        lastPeaksMeasured = 0
        guard samples.count >= 64 else { return [] }
        let size = Self.fftSize(forSamples: samples.count)
        if workspace?.size != size { workspace = FFTWorkspace(size: size) }
        let ws = workspace!
        let plan = planner.plan(size: size)

        var clock = StageClock()
        // An unpadded series whose alignment suits the plan is transformed where it lies (FFTW's
        // r2c leaves its input untouched); anything else is prepared in the transform's buffer.
        var input = ws.real
        if size == samples.count, acceleration == 0, plan.canExecute(onInput: samples.baseAddress!, like: ws.real) {
            input = UnsafeMutablePointer(mutating: samples.baseAddress!)
        } else {
            Self.prepare(samples, tsamp: tsamp, acceleration: acceleration, into: UnsafeMutableBufferPointer(start: input, count: size))
        }
        clock.lap(&timings.prepare)
        plan.execute(input: input, output: ws.complex)
        clock.lap(&timings.fft)

        let bins = size / 2
        let duration = Double(size) * tsamp
        if powers.count != bins + HarmonicSummer.padding {
            powers = [Float](repeating: 0, count: bins + HarmonicSummer.padding)
        }
        let complex = ws.complex
        powers.withUnsafeMutableBufferPointer { padded in
            let p = UnsafeMutableBufferPointer(rebasing: padded[0..<bins])
            whitener.whiten(powersOf: complex, into: p)
            for birdie in parameters.birdies {
                for range in birdie.binRanges(duration: duration, bins: bins) {
                    for k in range {
                        p[k] = 0
                        complex[2 * k] = 0
                        complex[2 * k + 1] = 0
                    }
                }
            }
            if let fMax = parameters.maxFrequency {
                let kMax = Int(fMax * duration * Double(parameters.maxHarmonics))
                if kMax < bins { for k in max(1, kMax)..<bins { p[k] = 0 } }
            }
        }

        let lowestBin = Self.searchedBins(samples: samples.count, tsamp: tsamp, minFrequency: parameters.minFrequency).lowerBound
        if parameters.toplistSize > 0 {
            lastToplist = powers.withUnsafeBufferPointer {
                SpectrumToplist.select(powers: $0, range: min(lowestBin, bins)..<bins, count: parameters.toplistSize, complex: complex)
            }
        }
        clock.lap(&timings.spectrum)
        lastSpectrum = (bins, duration)
        let searchedBins = max(1, bins - lowestBin)
        let accelTrials = max(1, trialsPerSeries)
        let thresholds = detectionThresholds(searchedBins: searchedBins, accelTrials: accelTrials)
        let peaks = powers.withUnsafeBufferPointer {
            summer.search(powers: $0, bins: bins, thresholds: thresholds, lowestBin: lowestBin)
        }
        clock.lap(&timings.harmonicSum)
        timings.searches += 1
        guard !peaks.isEmpty else { return [] }
        defer { clock.lap(&timings.measure) }

        // Measure the strongest peaks by Fourier interpolation.
        let interpolator = FourierInterpolator(spectrum: UnsafePointer(complex), count: bins)
        let ordered = peaks.map {
            ($0, significance(Double($0.power), harmonics: $0.harmonics, searchedBins: searchedBins, accelTrials: accelTrials))
        }
            .sorted { $0.1 > $1.1 }
        var found: [SeriesCandidate] = []
        lastPeaksMeasured = min(ordered.count, 2 * parameters.maxCandidates)
        for (peak, _) in ordered.prefix(2 * parameters.maxCandidates) {
            let (r, power) = refine(peak, interpolator: interpolator, bins: bins)
            let sigma = significance(power, harmonics: peak.harmonics, searchedBins: searchedBins, accelTrials: accelTrials)
            guard sigma >= parameters.sigmaThreshold else { continue }
            let frequency = r / duration
            if let fMax = parameters.maxFrequency, frequency > fMax { continue }
            if frequency < parameters.minFrequency { continue }
            found.append(SeriesCandidate(
                frequency: frequency, harmonics: peak.harmonics, power: power, sigma: sigma,
                acceleration: acceleration, dm: dm, dmIndex: dmIndex))
        }
        var kept = Self.deduplicate(found, resolution: 1.0 / duration, limit: parameters.maxCandidates)
        for i in kept.indices {
            kept[i].harmonicMeasurements = HarmonicMeasurement.measure(
                fundamental: kept[i].frequency * duration, count: kept[i].harmonics, interpolator: interpolator,
                localPower: { [whitener] k in Double(whitener.median(atBin: k)) / 0.693147180559945 })
        }
        return kept
    }

    /// Writes the series a search transforms into `output` (the FFT length): `samples` resampled
    /// for a non-zero `acceleration`, then, when `output` is longer, mean-subtracted and zero-padded.
    /// Without padding the mean only reaches bin 0, which is never searched; with padding it would
    /// leak into the lowest bins, so it is removed. What a checker of a reported spectrum must
    /// transform to get the same powers.
    public static func prepare(
        _ samples: UnsafeBufferPointer<Float>, tsamp: Double, acceleration: Double, into output: UnsafeMutableBufferPointer<Float>
    ) {
        let count = samples.count, size = output.count
        precondition(size >= count)
        let input = output.baseAddress!
        if acceleration != 0 {
            AccelerationPlan.resample(samples, tsamp: tsamp, acceleration: acceleration, into: output)
        }
        if size > count {
            let source = acceleration != 0 ? UnsafePointer(input) : samples.baseAddress!
            let m = Float(xx_sum(source, count) / Double(count))
            for i in 0..<count { input[i] = source[i] - m }
            (input + count).update(repeating: 0, count: size - count)
        } else if acceleration == 0 {
            input.update(from: samples.baseAddress!, count: size)
        }
    }

    /// The whitened powers (noise mean 1) of the last searched series within `halfWidth` bins of
    /// `frequency`: the spectrum a candidate was detected in, for plots, without another FFT.
    public func excerpt(frequency: Double, halfWidth: Int = 32) -> SpectrumExcerpt? {
        guard let (bins, duration) = lastSpectrum else { return nil }
        let centre = Int((frequency * duration).rounded())
        guard centre > 0, centre < bins else { return nil }
        let lo = max(1, centre - halfWidth), hi = min(bins - 1, centre + halfWidth)
        return SpectrumExcerpt(startHz: Double(lo) / duration, stepHz: 1 / duration, powers: Array(powers[lo...hi]))
    }

    /// The trials-corrected sigma of a `harmonics`-harmonic sum: the fundamental is searched over
    /// searchedBins / harmonics bins, continuously, at every acceleration trial and harmonic stage
    /// (see `Significance.searchSigma`).
    private func significance(_ power: Double, harmonics: Int, searchedBins: Int, accelTrials: Int) -> Double {
        Significance.searchSigma(
            power: power, harmonics: harmonics,
            fundamentalBins: Self.fundamentalBins(searchedBins, harmonics: harmonics, accelTrials: accelTrials),
            stages: parameters.stageCount)
    }

    /// Fundamental bins a `harmonics`-harmonic sum searches, over all acceleration trials.
    private static func fundamentalBins(_ searchedBins: Int, harmonics: Int, accelTrials: Int) -> Double {
        Double(searchedBins) / Double(harmonics) * Double(accelTrials)
    }

    /// A signal between bins loses up to 60% of a harmonic's power on whole bins (sinc^2 of half a
    /// bin), and a harmonic sum about 20% on average: whole-bin peaks are kept down to this fraction
    /// of the reporting threshold's power (or `sigmaThreshold - detectionMargin`, if lower), but
    /// not below the power noise reaches a few times per series.
    static let detectionPowerFraction = 0.5

    /// Whole-bin detection thresholds, one per harmonic stage.
    private func detectionThresholds(searchedBins: Int, accelTrials: Int) -> [Float] {
        let key = "\(searchedBins)/\(accelTrials)"
        if let cached = thresholdCache[key] { return cached }
        let margin = max(-5, parameters.sigmaThreshold - parameters.detectionMargin)
        var thresholds: [Float] = []
        var n = 1
        for _ in 0..<parameters.stageCount {
            func power(_ sigma: Double) -> Double {
                Significance.searchPowerThreshold(
                    sigma: sigma, harmonics: n,
                    fundamentalBins: Self.fundamentalBins(searchedBins, harmonics: n, accelTrials: accelTrials),
                    stages: parameters.stageCount)
            }
            let floor = power(-2.5)  // about 6 noise peaks above it per stage
            let fraction = max(floor, Self.detectionPowerFraction * power(parameters.sigmaThreshold))
            thresholds.append(Float(min(power(margin), fraction)))
            n *= 2
        }
        thresholdCache[key] = thresholds
        return thresholds
    }

    /// Normalised harmonic-summed power with fundamental at fractional bin `r`.
    private func summedPower(_ r: Double, harmonics: Int, interpolator: FourierInterpolator, bins: Int) -> Double {
        var total = 0.0
        for j in 1...harmonics {
            let rj = r * Double(j)
            let k = Int(rj.rounded())
            guard k >= 1 && k < bins else { break }
            let median = Double(whitener.median(atBin: k))
            guard median > 0 else { continue }
            total += interpolator.power(at: rj) * 0.693147180559945 / median
        }
        return total
    }

    /// Finds the fundamental near the peak that maximises the interpolated harmonic sum.
    private func refine(_ peak: HarmonicPeak, interpolator: FourierInterpolator, bins: Int) -> (Double, Double) {
        let n = Double(peak.harmonics)
        let centre = peak.fundamentalBin
        let step = 1.0 / (8.0 * n)
        var bestR = centre
        var bestP = -1.0
        for i in -8...8 {
            let r = centre + Double(i) * step
            let p = summedPower(r, harmonics: peak.harmonics, interpolator: interpolator, bins: bins)
            if p > bestP { bestP = p; bestR = r }
        }
        // Golden-section polish within one grid step.
        let (r, p) = GoldenSection.maximum(from: bestR - step, to: bestR + step, iterations: 12) {
            summedPower($0, harmonics: peak.harmonics, interpolator: interpolator, bins: bins)
        }
        return p > bestP ? (r, p) : (bestR, bestP)
    }

    /// Keeps the most significant candidate among those within 1.1 bins of the same fundamental.
    static func deduplicate(_ candidates: [SeriesCandidate], resolution: Double, limit: Int) -> [SeriesCandidate] {
        let sorted = candidates.sorted { $0.sigma > $1.sigma }
        var kept: [SeriesCandidate] = []
        for c in sorted where kept.count < limit {
            if !kept.contains(where: { abs($0.frequency - c.frequency) < 1.1 * resolution }) { kept.append(c) }
        }
        return kept
    }
}

/// Seconds spent in each stage of `PeriodicitySearcher.search`, summed over calls.
public struct SearchTimings: Sendable {
    /// Mean removal, copy and zero padding.
    public var prepare: Double = 0
    /// The FFTW transform.
    public var fft: Double = 0
    /// Powers, whitening and zapping.
    public var spectrum: Double = 0
    /// Harmonic summing and threshold detection.
    public var harmonicSum: Double = 0
    /// Fourier interpolation and significance of the peaks.
    public var measure: Double = 0
    /// Searches timed.
    public var searches: Int = 0

    public init() {}

    public var total: Double { prepare + fft + spectrum + harmonicSum + measure }
}

struct StageClock {
    private var last = DispatchTime.now().uptimeNanoseconds

    mutating func lap(_ accumulator: inout Double) {
        let now = DispatchTime.now().uptimeNanoseconds
        accumulator += Double(now - last) / 1e9
        last = now
    }
}
