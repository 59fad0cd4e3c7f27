import Foundation

/// A pulse profile from folding a time series at one period.
public struct FoldedProfile: Sendable, Codable, Equatable {
    /// Frequency folded at, Hz (at the middle of the observation).
    public var frequency: Double
    /// Acceleration folded with, m/s^2.
    public var acceleration: Double
    /// Mean series value per phase bin, in units of the series' standard deviation.
    public var profile: [Float]
    /// Reduced chi-square of the profile against a flat one (about 1 for noise).
    public var reducedChiSquare: Double
    /// Signal-to-noise of the best boxcar on the profile, from its off-pulse noise.
    public var snr: Double
    /// Duty cycle of that boxcar (fraction of a period).
    public var width: Double
}

extension FoldedProfile {
    /// The profile's chi-square against a flat one as a Gaussian-equivalent sigma (Wilson and
    /// Hilferty's cube-root approximation for bins - 1 degrees of freedom): about 0 for noise
    /// folded at one trial, more after an optimisation over trials picked the largest. Unlike the
    /// boxcar S/N it needs no off-pulse scatter, which a profile of few bins estimates badly.
    public var chiSquareSigma: Double { Self.chiSquareSigma(reducedChiSquare: reducedChiSquare, bins: profile.count) }

    /// ``chiSquareSigma`` of a profile of `bins` bins with `reducedChiSquare`.
    public static func chiSquareSigma(reducedChiSquare: Double, bins: Int) -> Double {
        let k = Double(max(1, bins - 1))
        let ratio = max(0, reducedChiSquare)
        let spread = 2 / (9 * k)
        return (pow(ratio, 1.0 / 3) - (1 - spread)) / spread.squareRoot()
    }
}

extension FoldedProfile {
    /// Per-bin sums of (x - mean), sample counts and the noise variance of each sum.
    public struct Sums: Sendable, Equatable {
        public var sums: [Double]
        public var counts: [Double]
        public var variances: [Double]

        /// Adds each `factor` neighbouring bins into one.
        func combined(_ factor: Int) -> Sums {
            guard factor > 1 else { return self }
            func add(_ v: [Double]) -> [Double] {
                (0..<(v.count / factor)).map { b in v[(b * factor)..<(b * factor + factor)].reduce(0, +) }
            }
            return Sums(sums: add(sums), counts: add(counts), variances: add(variances))
        }
    }

    /// The profile of folded sums: each bin's z = sum / sqrt(variance) gives the chi-square and
    /// the boxcar S/N; the profile is each bin's mean in units of its noise per sample.
    public init(frequency: Double, acceleration: Double, sums: Sums) {
        let bins = sums.sums.count
        var chi = 0.0
        var z = [Double](repeating: 0, count: bins)
        var profile = [Float](repeating: 0, count: bins)
        for i in 0..<bins where sums.counts[i] > 0 && sums.variances[i] > 0 {
            z[i] = sums.sums[i] / sums.variances[i].squareRoot()
            chi += z[i] * z[i]
            profile[i] = Float(z[i] / sums.counts[i].squareRoot())
        }
        let (snr, width) = Folder.boxcarSNR(z)
        self.init(
            frequency: frequency, acceleration: acceleration, profile: profile,
            reducedChiSquare: chi / Double(max(1, bins - 1)), snr: snr, width: width)
    }
}

/// Folds time series at candidate periods and refines the period (and acceleration) by maximising
/// the profile's chi-square, as prepfold does: one pass over the series into a ``FoldCube``, then
/// the ``FoldSearch`` over its sub-integrations.
public enum Folder {
    /// Phase bins used for a period of `period` seconds sampled every `tsamp`.
    public static func binCount(period: Double, tsamp: Double, maximum: Int = 64) -> Int {
        max(8, min(maximum, Int(period / tsamp)))
    }

    /// Sub-integrations of a cube of `bins` phase bins over `samples` samples holding `turns`
    /// pulse periods: 64, or fewer so that each has at least `bins` samples and two turns. Each
    /// sub-integration is measured against its own mean and variance (``FoldCube``); one shorter
    /// than a period covers only part of the phase, and one holding the pulse has its mean raised
    /// by it, which is then taken from the bins it covers, the pulse's among them (the folded S/N
    /// of 2 s pulsars in 52 s fell by a quarter with 64 sub-integrations of 0.8 s). With two or
    /// more turns each every phase is covered and the pulse raises every mean alike.
    public static func subintegrationCount(samples: Int, bins: Int, turns: Double) -> Int {
        max(1, min(64, samples / max(1, bins), Int(turns / 2)))
    }

    /// Phase bins of the cube per profile bin: rotations by whole cube bins then misalign
    /// sub-integrations by at most half a cube bin, a fraction of the profile's (which matters when
    /// a short period leaves few profile bins for a narrow pulse). Up to 4, and 128 cube bins.
    static func cubeOversampling(profileBins: Int) -> Int {
        max(1, min(4, 128 / max(1, profileBins)))
    }

    /// Samples added into one before folding, when a cube bin holds `samplesPerBin` samples: the
    /// largest power of two that leaves at least 4 to a bin (each summed sample then spans at most
    /// a quarter of a cube bin, an eighth of a profile bin). One pass over the series, which saves
    /// most of the fold's per-sample work for periods of more than a few hundred samples.
    static func decimation(samplesPerBin: Double) -> Int {
        var factor = 1
        while samplesPerBin / Double(2 * factor) >= 4 { factor *= 2 }
        return factor
    }

    /// Folds `series` at `frequency` Hz (mid-observation) and `acceleration` into `bins` phase bins.
    public static func fold(
        _ series: UnsafeBufferPointer<Float>, tsamp: Double, frequency: Double, acceleration: Double = 0, bins: Int
    ) -> FoldedProfile {
        let cube = FoldCube(
            series, tsamp: tsamp, frequency: frequency, acceleration: acceleration, bins: bins, subintegrations: 1)
        return FoldedProfile(frequency: frequency, acceleration: acceleration, sums: cube.profile(shifts: [0]))
    }

    /// Folds once into sub-integrations and returns the profile with the highest chi-square within
    /// one Fourier bin (1/T) of `frequency` (steps of 1/(bins T)) and within `accelerationSpan`
    /// m/s^2 of `acceleration`: by default the acceleration that drifts `frequency` by 2 Fourier
    /// bins over the observation, the period derivative a search without acceleration trials
    /// still detects (0 searches no period derivative). Folds of one series may share a
    /// `pyramid` of it, from which long periods are folded without summing the series again.
    public static func optimise(
        _ series: UnsafeBufferPointer<Float>, tsamp: Double, frequency: Double, acceleration: Double = 0,
        maxBins: Int = 64, accelerationSpan: Double? = nil, pyramid: SeriesPyramid? = nil
    ) -> FoldedProfile {
        let bins = binCount(period: 1 / frequency, tsamp: tsamp, maximum: maxBins)
        let cubeBins = bins * cubeOversampling(profileBins: bins)
        var factor = decimation(samplesPerBin: 1 / (frequency * tsamp * Double(cubeBins)))
        while factor > 1 && series.count / factor < 64 * bins { factor /= 2 }
        let subintegrations = subintegrationCount(
            samples: series.count / factor, bins: bins, turns: frequency * Double(series.count) * tsamp)
        let cube: FoldCube
        if let pyramid, factor > 1 {
            cube = pyramid.level(factor, of: series).withUnsafeBufferPointer {
                FoldCube(
                    summed: $0, factor: factor, tsamp: tsamp, frequency: frequency, acceleration: acceleration,
                    bins: cubeBins, subintegrations: subintegrations)
            }
        } else {
            cube = FoldCube(
                series, tsamp: tsamp, frequency: frequency, acceleration: acceleration, bins: cubeBins,
                subintegrations: subintegrations, decimation: factor)
        }
        let duration = Double(series.count) * tsamp
        let span = accelerationSpan ?? driftAcceleration(frequency: frequency, duration: duration, bins: 2)
        let grid = FoldSearch.grid(cube: cube, profileBins: bins, accelerationSpan: span)
        return FoldSearch.optimise(cube, grid: grid, profileBins: bins)
    }

    /// The acceleration that drifts `frequency` by `bins` Fourier bins over `duration`: bins c / (f T^2).
    public static func driftAcceleration(frequency: Double, duration: Double, bins: Double) -> Double {
        guard frequency > 0, duration > 0 else { return 0 }
        return bins * AccelerationPlan.speedOfLight / (frequency * duration * duration)
    }

    /// Boxcar widths tried on a profile, in bins.
    static let boxcarWidths = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48]

    /// Best boxcar S/N on a profile of unit-variance bins: for each width (up to half the
    /// profile), the boxcar with the largest sum is measured against the mean and scatter of the
    /// bins outside it, and the width with the highest S/N wins. Returns the S/N and the duty cycle.
    static func boxcarSNR(_ z: [Double]) -> (Double, Double) {
        let bins = z.count
        guard bins >= 2 else { return (0, 1) }
        var prefix = [Double](repeating: 0, count: 2 * bins + 1)
        var prefixSquares = prefix
        for i in 0..<(2 * bins) {
            prefix[i + 1] = prefix[i] + z[i % bins]
            prefixSquares[i + 1] = prefixSquares[i] + z[i % bins] * z[i % bins]
        }
        let total = prefix[bins], totalSquares = prefixSquares[bins]
        var best = (snr: -Double.infinity, width: 1)
        for w in boxcarWidths where w <= bins / 2 && bins - w >= 4 {
            var start = 0
            var on = -Double.infinity
            for s in 0..<bins where prefix[s + w] - prefix[s] > on {
                on = prefix[s + w] - prefix[s]
                start = s
            }
            let onSquares = prefixSquares[start + w] - prefixSquares[start]
            let offCount = Double(bins - w)
            let offMean = (total - on) / offCount
            let offVariance = ((totalSquares - onSquares) - offCount * offMean * offMean) / (offCount - 1)
            let snr = (on - Double(w) * offMean) / (max(1e-12, offVariance).squareRoot() * Double(w).squareRoot())
            if snr > best.snr { best = (snr, w) }
        }
        return (max(0, best.snr), Double(best.width) / Double(bins))
    }
}

