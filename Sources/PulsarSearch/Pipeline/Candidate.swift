/// A pulsar candidate from a search: what `xunxing search --format json` prints and the
/// coordinator stores. Field names on the wire are snake_case.
public struct Candidate: Sendable, Codable, Equatable {
    /// Period in seconds.
    public var periodS: Double
    /// Spin frequency in Hz.
    public var frequencyHz: Double
    /// Dispersion measure of the best detection, pc cm^-3.
    public var dm: Double
    /// Uncertainty of `dm` when it was searched by shifting subband folds (nil: `dm` is the best
    /// DM trial).
    public var dmUncertainty: Double?
    /// Index of the best detection's DM trial in the search's DM plan (nil when not known).
    public var dmIndex: Int?
    /// Gaussian-equivalent significance of the best detection, trial-corrected per series.
    public var sigma: Double
    /// Harmonics summed in the best detection.
    public var harmonics: Int
    /// Line-of-sight acceleration, m/s^2.
    public var accelMS2: Double
    /// Signal-to-noise of the folded profile (0 if not folded).
    public var snrFolded: Double
    /// Reduced chi-square of the folded profile against a flat one (0 if not folded).
    public var reducedChiSquare: Double
    /// Number of DM trials the signal was detected at.
    public var dmHits: Int
    /// Summed normalised power of the best detection.
    public var power: Double
    /// Folded pulse profile (empty if not folded).
    public var profile: [Float]
    /// Sigma against DM: the DMs it was detected at and the best sigma at each.
    public var dmCurve: [DMPoint]
    /// Powers around the candidate's frequency at its DM (folded candidates only).
    public var spectrum: SpectrumExcerpt?
    /// The search that made the best detection (nil in records from before the FFA).
    public var method: DetectionMethod?
    /// Duty cycle of the best boxcar when the FFA made the best detection (`harmonics` is then the
    /// harmonics a pulse that narrow carries, and `power` the FFA's boxcar S/N).
    public var dutyCycle: Double?
    /// The catalogued pulsar this candidate is (or is a harmonic of), set by
    /// ``KnownPulsarMatcher`` where a catalogue was given; nil: none matched, or not checked.
    public var knownPulsar: KnownPulsarMatch?
    /// The prepfold-style diagnostics of the fold (``FoldDiagnostics``) and the quality score
    /// measured from them, for the strongest candidates of a list (nil: not measured).
    public var diagnostics: FoldDiagnostics?
    public var quality: CandidateQuality?
    /// Each harmonic of the best detection measured on its own (nil: an FFA detection, or a
    /// record from before harmonics were measured).
    public var harmonicMeasurements: [HarmonicMeasurement]?

    /// One point of the sigma-against-DM curve.
    public struct DMPoint: Sendable, Codable, Equatable {
        public var dm: Double
        public var sigma: Double
        public init(dm: Double, sigma: Double) { self.dm = dm; self.sigma = sigma }
    }

    enum CodingKeys: String, CodingKey {
        case periodS = "period_s", frequencyHz = "frequency_hz", dm, dmUncertainty = "dm_uncertainty", dmIndex = "dm_index"
        case sigma, harmonics
        case accelMS2 = "accel_m_s2", snrFolded = "snr_folded", reducedChiSquare = "reduced_chi2"
        case dmHits = "dm_hits", power, profile, dmCurve = "dm_curve", spectrum, method, dutyCycle = "duty_cycle"
        case knownPulsar = "known_pulsar", diagnostics, quality, harmonicMeasurements = "harmonic_measurements"
    }

    public init(
        periodS: Double, frequencyHz: Double, dm: Double, sigma: Double, harmonics: Int, accelMS2: Double,
        snrFolded: Double = 0, reducedChiSquare: Double = 0, dmHits: Int = 1, power: Double = 0,
        profile: [Float] = [], dmCurve: [DMPoint] = [], dmIndex: Int? = nil, method: DetectionMethod? = nil,
        dutyCycle: Double? = nil, harmonicMeasurements: [HarmonicMeasurement]? = nil
    ) {
        self.harmonicMeasurements = harmonicMeasurements
        self.method = method
        self.dutyCycle = dutyCycle
        self.dmIndex = dmIndex
        self.periodS = periodS
        self.frequencyHz = frequencyHz
        self.dm = dm
        self.sigma = sigma
        self.harmonics = harmonics
        self.accelMS2 = accelMS2
        self.snrFolded = snrFolded
        self.reducedChiSquare = reducedChiSquare
        self.dmHits = dmHits
        self.power = power
        self.profile = profile
        self.dmCurve = dmCurve
    }
}

extension Candidate {
    /// The folded profile's chi-square as a Gaussian-equivalent sigma
    /// (``FoldedProfile/chiSquareSigma``); nil when the candidate was not folded.
    public var foldSigma: Double? {
        profile.isEmpty ? nil : FoldedProfile.chiSquareSigma(reducedChiSquare: reducedChiSquare, bins: profile.count)
    }
}
