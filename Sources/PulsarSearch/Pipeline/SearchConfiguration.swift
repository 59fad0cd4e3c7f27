/// Everything that shapes a search, with defaults tuned for pulsars rather than for any one file.
public struct SearchConfiguration: Sendable, Equatable {
    /// Lowest DM searched, pc cm^-3.
    public var dmMin: Double = 0
    /// Highest DM searched; nil picks the DM whose delay across the band is half the observation
    /// (capped at 1000).
    public var dmMax: Double? = nil
    /// Largest |acceleration| searched, m/s^2 (0: no acceleration search).
    public var accelMax: Double = 0
    /// Fourier bins of drift between neighbouring acceleration trials at the highest searched
    /// frequency (see ``AccelerationPlan``).
    public var accelerationDrift: Double = AccelerationPlan.defaultDrift
    /// Per-series Fourier search parameters.
    public var spectral = SpectralSearchParameters()
    /// Sifting rules.
    public var sift = SiftParameters()
    /// Threads searching series in parallel.
    public var threads: Int = 1
    /// Candidates folded (strongest first) after sifting.
    public var foldCount: Int = 20
    /// Strongest folded candidates (folded S/N at least 5) whose DM is searched by shifting and
    /// adding their subband folds (``DMFoldSearch``).
    public var dmRefinementCount: Int = 5
    /// Candidates reported at most.
    public var maxCandidates: Int = 50
    /// Largest time downsampling the DM plan may use.
    public var maxDownsample: Int = 64
    /// Subbands for dedispersion (nil: about 2 sqrt(channels)).
    public var subbands: Int? = nil
    /// Bytes of dedispersed series held at once; DM trials are processed in batches within it.
    public var memoryBudget: Int = 1 << 30
    /// Interference excision before dedispersion (off unless asked for: the command line and the
    /// presets ask for `auto`).
    public var rfi: RFIOptions = .off
    /// The Fourier search of every DM and acceleration trial (on unless only the FFA is wanted).
    public var fft: Bool = true
    /// The FFA search of every DM trial for long periods (``FFASearch``); nil: not run. Its
    /// detections are sifted and folded with the Fourier search's.
    public var ffa: FFAOptions? = nil

    public init() {}

    /// The reporting threshold (sigma). Series are searched a little below it so that sifting can
    /// see a signal at the neighbouring DM trials too.
    public var sigmaThreshold: Double {
        get { sift.sigmaThreshold }
        set {
            sift.sigmaThreshold = newValue
            spectral.sigmaThreshold = max(2, newValue - 1)
        }
    }

    /// The sifting rules in force: ``sift``, with the longest period raised to the FFA's when it runs.
    public var siftParameters: SiftParameters {
        var p = sift
        if let ffa { p.maxPeriod = max(p.maxPeriod, ffa.periodMax) }
        return p
    }

    /// Largest number of harmonics summed (1, 2, 4, 8, 16 or 32).
    public var harmonics: Int {
        get { spectral.maxHarmonics }
        set { spectral.maxHarmonics = newValue }
    }
}

/// Where a search is.
public struct SearchProgress: Sendable {
    public enum Phase: String, Sendable {
        case measuring, dedispersing, searching, sifting, folding, diagnosing
    }

    public var phase: Phase
    public var completed: Int
    public var total: Int

    public init(phase: Phase, completed: Int, total: Int) {
        self.phase = phase
        self.completed = completed
        self.total = total
    }

    public var fraction: Double { total > 0 ? Double(completed) / Double(total) : 0 }
}

/// What a search found and what it did.
public struct SearchReport: Sendable {
    /// Candidates, strongest first.
    public var candidates: [Candidate]
    /// The DM trials searched.
    public var dmPlan: DMPlan
    /// Acceleration trials per series (at full resolution).
    public var accelerationTrials: Int
    /// Spacing of those trials, m/s^2 (0 without an acceleration search).
    public var accelerationStep: Double
    /// Series searched (DM trials x acceleration trials).
    public var seriesSearched: Int
    /// Detections before sifting.
    public var rawCandidates: Int
    /// Channels masked as dead or interference.
    public var maskedChannels: Int
    /// Observation length, s.
    public var duration: Double
    /// What interference excision did, when it ran.
    public var rfi: RFIReport? = nil
}
