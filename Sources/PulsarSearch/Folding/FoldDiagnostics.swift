import Foundation

/// What an astronomer judges a candidate by, as prepfold shows it: the profile, the pulse's phase
/// against time (sub-integrations) and against frequency (subbands), and how the fold's chi-square
/// changes with DM, with trial period and across the period - period-derivative plane, with the
/// best values and their uncertainties.
///
/// Measured from a filterbank: the subbands are dedispersed at the given DM (aligned to the top of
/// the band) and summed into one series, which is folded once into sub-integrations x bins at the
/// given period and period derivative (a ``FoldCube``). Trial periods and period derivatives
/// rotate the sub-integrations by whole bins (``FoldSearch/shifts(cube:frequencyOffset:accelerationOffset:)``);
/// trial DMs rotate each subband's fold by the delay the DM error leaves in it (``DMFoldSearch``).
///
/// Chi-square is the fold's against a flat profile, `sum (s_b^2 / var_b)`, reduced by the bins
/// less one. An uncertainty is where that chi-square has fallen by 1 from its peak (a parabola
/// through the best trial and its neighbours), the matched-filter 1-sigma interval; the DM's is
/// ``DMFoldSearch``'s jackknife over subbands (the span searched, when the DM cannot be measured).
/// Every number is finite, so that the diagnostics travel as JSON.
public struct FoldDiagnostics: Sendable, Codable, Equatable {
    public var observation: ObservationInfo?
    /// Best period (s) and period derivative (s/s) found, their uncertainties, and what was asked.
    public var period: Double
    public var periodUncertainty: Double
    public var periodDerivative: Double
    public var periodDerivativeUncertainty: Double
    public var dm: Double
    public var dmUncertainty: Double
    public var requestedPeriod: Double
    public var requestedDM: Double
    /// The fold at the best values: its profile, reduced chi-square and S/N.
    public var profile: [Float]
    public var reducedChiSquare: Double
    public var snr: Double
    /// Sub-integrations x bins (each row less its mean, in noise sigma), and their mid-times (s from the start).
    public var timePhase: [[Float]]
    public var subintegrationTimes: [Double]
    /// Subbands x bins at the best DM, and each subband's centre frequency (MHz), top of the band first.
    public var frequencyPhase: [[Float]]
    public var subbandFrequencies: [Double]
    /// Reduced chi-square against trial DM, against trial period, and over (period, period
    /// derivative): `ppdot[derivative index][period index]`.
    public var dmCurve: [Point]
    public var periodCurve: [Point]
    public var ppdotPeriods: [Double]
    public var ppdotDerivatives: [Double]
    public var ppdot: [[Float]]
    /// Length of the observation, s.
    public var duration: Double

    public struct Point: Sendable, Codable, Equatable {
        public var x: Double
        public var reducedChiSquare: Double
        enum CodingKeys: String, CodingKey { case x, reducedChiSquare = "reduced_chi2" }
    }

    enum CodingKeys: String, CodingKey {
        case observation, period = "period_s", periodUncertainty = "period_uncertainty_s", periodDerivative = "period_derivative"
        case periodDerivativeUncertainty = "period_derivative_uncertainty", dm, dmUncertainty = "dm_uncertainty"
        case requestedPeriod = "requested_period_s", requestedDM = "requested_dm", profile, reducedChiSquare = "reduced_chi2", snr
        case timePhase = "time_phase", subintegrationTimes = "subintegration_times_s", frequencyPhase = "frequency_phase"
        case subbandFrequencies = "subband_frequencies_mhz", dmCurve = "dm_curve", periodCurve = "period_curve"
        case ppdotPeriods = "ppdot_periods_s", ppdotDerivatives = "ppdot_period_derivatives", ppdot, duration = "duration_s"
    }

    static let speedOfLight = AccelerationPlan.speedOfLight

    /// Folds `source` at `period` (s), `dm` and `periodDerivative`, in `bins` phase bins (default:
    /// as the search folds) and `subintegrations` sub-integrations, searching DM within `dmSpan`
    /// either side (default: 10 % of the DM, at least 2) and period over 2 Fourier bins either side.
    /// `weights` are the source's channel weights when the caller has measured them (else a pass
    /// over the data measures them).
    public static func measure(
        _ source: any SpectrumSource, observation: ObservationInfo? = nil, period: Double, dm: Double, periodDerivative: Double = 0,
        bins requestedBins: Int? = nil, subintegrations: Int = 32, subbands: Int = 32, dmSpan: Double? = nil, weights known: ChannelWeights? = nil
    ) throws -> FoldDiagnostics {
        guard period > 0, period.isFinite else { throw FormatError.invalidValue(file: "fold", field: "period", value: "\(period)", reason: "must be > 0 s") }
        let weights = try known ?? ChannelWeights.measure(source)
        let dedisperser = SubbandDedisperser(source: source, weights: weights, subbands: min(subbands, source.channelCount))
        let (block, delayPerDM) = try dedisperser.dedisperseSubbands(dm: dm, downsample: 1)
        let tsamp = block.sampleTime, n = block.length
        guard n > 0 else { throw FormatError.empty(file: "fold") }
        let duration = Double(n) * tsamp
        // The band's series: the subbands summed (they are aligned to the top of the band).
        var series = [Float](repeating: 0, count: n)
        for s in 0..<block.dms.count { block.withSeries(s) { x in for t in 0..<n { series[t] += x[t] } } }
        let frequency = 1 / period
        let acceleration = periodDerivative / period * speedOfLight
        let nb = requestedBins ?? Folder.binCount(period: period, tsamp: tsamp)
        let nsub = max(2, min(subintegrations, Int(duration / period)))
        let cube = series.withUnsafeBufferPointer {
            FoldCube($0, tsamp: tsamp, frequency: frequency, acceleration: acceleration, bins: nb, subintegrations: nsub)
        }
        // The P-Pdot plane: 2 Fourier bins either side in frequency, and the acceleration that
        // drifts the ends by as many bins as the frequency span does, either side.
        let grid = FoldSearch.grid(cube: cube, frequencySpan: 2)
        let aStep = 8 * speedOfLight / (frequency * duration * duration * Double(nb))
        let aOffsets = (-8...8).map { Double($0) * aStep }
        func chi(_ df: Double, _ da: Double) -> Double {
            let sums = cube.profile(shifts: FoldSearch.shifts(cube: cube, frequencyOffset: df, accelerationOffset: da))
            var c = 0.0
            for b in 0..<nb where sums.variances[b] > 0 { c += sums.sums[b] * sums.sums[b] / sums.variances[b] }
            return c
        }
        let plane = aOffsets.map { da in grid.frequencyOffsets.map { df in chi(df, da) } }
        var best = (k: aOffsets.count / 2, i: grid.frequencyOffsets.count / 2)
        for k in plane.indices { for i in plane[k].indices where plane[k][i] > plane[best.k][best.i] { best = (k, i) } }
        let df = grid.frequencyOffsets[best.i], da = aOffsets[best.k]
        // The best values between trials (a parabola through the best and its neighbours); the
        // rotations are whole bins, so each trial is known to a step at best: its rounding
        // (step / sqrt 12) is added to the curvature's 1-sigma in quadrature.
        let (fPeak, fCurve) = peak(grid.frequencyOffsets, plane[best.k], at: best.i)
        let (aPeak, aCurve) = peak(aOffsets, plane.map { $0[best.i] }, at: best.k)
        let fStep = grid.frequencyOffsets.count > 1 ? grid.frequencyOffsets[1] - grid.frequencyOffsets[0] : 0
        let fSigma = (fCurve * fCurve + fStep * fStep / 12).squareRoot(), aSigma = (aCurve * aCurve + aStep * aStep / 12).squareRoot()
        let bestFrequency = frequency + fPeak, bestAcceleration = acceleration + aPeak
        let shifts = FoldSearch.shifts(cube: cube, frequencyOffset: df, accelerationOffset: da)
        let folded = FoldedProfile(frequency: bestFrequency, acceleration: bestAcceleration, sums: cube.profile(shifts: shifts))

        // Phase against time: each sub-integration rotated into line, in its own noise sigma.
        var timePhase: [[Float]] = []
        for s in 0..<cube.subintegrations {
            let d = ((shifts[s] % nb) + nb) % nb
            timePhase.append((0..<nb).map { b in
                let j = s * nb + (b + d) % nb  // as FoldCube.profile(shifts:) rotates
                return cube.variances[j] > 0 ? Float(cube.sums[j] / cube.variances[j].squareRoot()) : 0
            })
        }
        let subTimes = cube.midTimes.map { $0 + duration / 2 }

        // DM: the subbands folded at the best period, trial DMs by rotation.
        let span = dmSpan ?? max(2, 0.1 * dm)
        let dmResult = DMFoldSearch.search(
            subbands: block, delayPerDM: delayPerDM, dm: dm, frequency: bestFrequency, acceleration: bestAcceleration,
            span: max(0, dm - span)...(dm + span))
        let bestDM = dmResult?.dm ?? dm
        // Phase against frequency at the best DM: each subband folded, rotated by its residual delay.
        var frequencyPhase: [[Float]] = []
        for s in 0..<block.dms.count {
            let residual = delayPerDM[s].isFinite ? (bestDM - dm) * delayPerDM[s] : 0
            // Folded as the band's series was (same reference, same sub-integrations, same rotations),
            // so that its phase is the profile's.
            let fold = block.withSeries(s) {
                FoldCube($0, tsamp: tsamp, frequency: frequency, acceleration: acceleration, bins: nb, subintegrations: nsub)
            }.profile(shifts: shifts)
            // A later arrival (positive residual delay) is a larger phase: read further on.
            let rotate = Int((residual * bestFrequency * Double(nb)).rounded())
            frequencyPhase.append((0..<nb).map { b in
                let j = ((b + rotate) % nb + nb) % nb
                return fold.variances[j] > 0 ? Float(fold.sums[j] / fold.variances[j].squareRoot()) : 0
            })
        }
        let freqs = (0..<source.channelCount).map(source.channelFrequency)
        let subbandFrequencies = (0..<block.dms.count).map { s -> Double in
            let members = freqs.indices.filter { dedisperser.subband(ofChannel: $0) == s }
            return members.map { freqs[$0] }.reduce(0, +) / Double(max(1, members.count))
        }
        let dof = Double(max(1, nb - 1))
        let dmBins = 4 * Folder.binCount(period: 1 / bestFrequency, tsamp: tsamp)
        return FoldDiagnostics(
            observation: observation, period: 1 / bestFrequency, periodUncertainty: fSigma / (bestFrequency * bestFrequency),
            periodDerivative: bestAcceleration / speedOfLight / bestFrequency, periodDerivativeUncertainty: aSigma / speedOfLight / bestFrequency,
            dm: bestDM, dmUncertainty: dmResult.map { $0.uncertainty.isFinite ? $0.uncertainty : span } ?? span, requestedPeriod: period, requestedDM: dm,
            profile: folded.profile, reducedChiSquare: folded.reducedChiSquare, snr: folded.snr,
            timePhase: timePhase, subintegrationTimes: subTimes, frequencyPhase: frequencyPhase, subbandFrequencies: subbandFrequencies,
            dmCurve: (dmResult?.curve ?? []).map { Point(x: $0.dm, reducedChiSquare: $0.chiSquare / Double(max(1, dmBins - 1))) },
            periodCurve: grid.frequencyOffsets.indices.map { Point(x: 1 / (frequency + grid.frequencyOffsets[$0]), reducedChiSquare: plane[best.k][$0] / dof) },
            ppdotPeriods: grid.frequencyOffsets.map { 1 / (frequency + $0) },
            ppdotDerivatives: aOffsets.map { (acceleration + $0) / speedOfLight * period },
            ppdot: plane.map { $0.map { Float($0 / dof) } }, duration: duration)
    }

    /// The peak of a chi-square curve near trial `i`, between trials (the vertex of the parabola
    /// through `i` and its neighbours, kept within a step of `x[i]`), and where the parabola has
    /// fallen by 1 from it (`1 / sqrt(curvature)`, the matched-filter 1-sigma); the step itself
    /// when the curve is not curved there.
    static func peak(_ x: [Double], _ chi: [Double], at i: Int) -> (x: Double, sigma: Double) {
        guard x.count >= 3 else { return (x[i], x.count > 1 ? abs(x[1] - x[0]) : 0) }
        let j = min(max(i, 1), x.count - 2)
        let h = x[j + 1] - x[j]
        let second = chi[j + 1] - 2 * chi[j] + chi[j - 1]
        guard second < 0 else { return (x[i], abs(h)) }
        let vertex = x[j] - h * (chi[j + 1] - chi[j - 1]) / (2 * second)
        let curvature = -second / (2 * h * h)  // chi ~ peak - curvature (x - x0)^2
        return (min(max(vertex, x[i] - abs(h)), x[i] + abs(h)), 1 / curvature.squareRoot())
    }
}
