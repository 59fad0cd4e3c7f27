import PulsarSearch

/// The JSON header at the front of a work-unit payload: what the series are and how to search them.
///
/// Series `i` of the payload is the observation dedispersed at `dms[i]` (trial `dmIndices[i]` of the
/// dataset's DM plan), downsampled by `downsample`, `samplesPerSeries` samples `sampleTime` apart.
/// A worker searches every series at every acceleration in `accelerations` with `search`.
public struct WorkUnitHeader: Codable, Sendable, Equatable {
    /// The payload format version this code writes and reads.
    public static let currentVersion = 1

    /// Payload format version (``currentVersion``).
    public var version: Int
    /// The coordinator's identifier of the unit.
    public var workUnitID: String
    /// The coordinator's identifier of the dataset the unit was cut from.
    public var datasetID: String
    /// Seconds per sample, after downsampling.
    public var sampleTime: Double
    /// Time downsampling factor applied to the original samples.
    public var downsample: Int
    /// Samples in every series.
    public var samplesPerSeries: Int
    /// Dispersion measure of each series, pc cm^-3.
    public var dms: [Double]
    /// Index of each series in the dataset's DM plan (reported back in `SeriesCandidate.dmIndex`).
    public var dmIndices: [Int]
    /// Acceleration trials to search for every series, m/s^2, zero first.
    public var accelerations: [Double]
    /// Parameters of the Fourier search of each series.
    public var search: SpectralSearchParameters
    /// Bits per stored sample: 8 or 16 (filled by the encoder).
    public var bits: Int
    /// Per series: value = stored * scale + offset (filled by the encoder).
    public var scales: [Float]
    /// Per series offset, see `scales` (filled by the encoder).
    public var offsets: [Float]
    /// Estimated cost of searching the unit, reference-core seconds.
    public var estimatedCost: Double
    /// The FFA search of every series, beside the Fourier search (absent: not run). Its detections
    /// join `candidates` with their duty cycle.
    public var ffa: FFAOptions?
    /// The single-pulse search of every series (absent: not run). Its boxcar hits go into the
    /// result's `singlePulseHits`.
    public var singlePulse: SinglePulseUnitOptions?

    /// Creates a header; `bits`, `scales` and `offsets` are normally left for
    /// `WorkUnitPayload.write` to fill.
    public init(
        version: Int = WorkUnitHeader.currentVersion, workUnitID: String, datasetID: String, sampleTime: Double,
        downsample: Int, samplesPerSeries: Int, dms: [Double], dmIndices: [Int], accelerations: [Double] = [0],
        search: SpectralSearchParameters, bits: Int = 8, scales: [Float] = [], offsets: [Float] = [],
        estimatedCost: Double = 0, ffa: FFAOptions? = nil, singlePulse: SinglePulseUnitOptions? = nil
    ) {
        self.ffa = ffa
        self.singlePulse = singlePulse
        self.version = version
        self.workUnitID = workUnitID
        self.datasetID = datasetID
        self.sampleTime = sampleTime
        self.downsample = downsample
        self.samplesPerSeries = samplesPerSeries
        self.dms = dms
        self.dmIndices = dmIndices
        self.accelerations = accelerations
        self.search = search
        self.bits = bits
        self.scales = scales
        self.offsets = offsets
        self.estimatedCost = estimatedCost
    }

    /// Number of series in the payload.
    public var seriesCount: Int { dms.count }

    /// Search trials in the unit: every series at every acceleration.
    public var trialCount: Int { dms.count * accelerations.count }

    /// The series and acceleration of trial `trial`. Trials are numbered series-major
    /// (`series * accelerations.count + acceleration`), so a worker can checkpoint after any trial.
    public func trial(_ trial: Int) -> (series: Int, acceleration: Double) {
        (trial / accelerations.count, accelerations[trial % accelerations.count])
    }

    /// Length of one series in seconds.
    public var duration: Double { Double(samplesPerSeries) * sampleTime }

    /// Bytes of series data that follow the header, or nil if the counts overflow.
    public var dataByteCount: Int? {
        let (perSeries, o1) = samplesPerSeries.multipliedReportingOverflow(by: bits / 8)
        let (total, o2) = perSeries.multipliedReportingOverflow(by: dms.count)
        return o1 || o2 ? nil : total
    }

    /// Throws `PayloadError.headerFieldInconsistent` naming the first field that is out of range or
    /// disagrees with the number of series (`dms.count`). `file` names the payload in the error.
    /// The version is not checked here (`WorkUnitPayload.read` does that first).
    public func validate(file: String) throws {
        func bad(_ field: String, _ value: Any, _ expected: String) -> PayloadError {
            .headerFieldInconsistent(file: file, field: field, value: "\(value)", expected: expected)
        }
        let n = dms.count
        guard n >= 1 else { throw bad("dms", "[] (0 series)", "at least one series") }
        guard dmIndices.count == n else { throw bad("dmIndices", "\(dmIndices.count) entries", "\(n), one per entry of dms") }
        guard scales.count == n else { throw bad("scales", "\(scales.count) entries", "\(n), one per entry of dms") }
        guard offsets.count == n else { throw bad("offsets", "\(offsets.count) entries", "\(n), one per entry of dms") }
        guard bits == 8 || bits == 16 else { throw bad("bits", bits, "8 or 16") }
        guard samplesPerSeries >= 1 else { throw bad("samplesPerSeries", samplesPerSeries, "at least 1") }
        guard sampleTime.isFinite && sampleTime > 0 else { throw bad("sampleTime", sampleTime, "a positive number of seconds") }
        guard downsample >= 1 else { throw bad("downsample", downsample, "at least 1") }
        guard accelerations.first == 0 else {
            throw bad("accelerations", accelerations, "a list starting with 0")
        }
        if let a = accelerations.first(where: { !$0.isFinite }) { throw bad("accelerations", a, "finite values") }
        if let d = dms.first(where: { !$0.isFinite || $0 < 0 }) { throw bad("dms", d, "finite, non-negative DMs") }
        if let i = dmIndices.first(where: { $0 < 0 }) { throw bad("dmIndices", i, "non-negative indices") }
        if let s = scales.first(where: { !$0.isFinite || $0 <= 0 }) { throw bad("scales", s, "finite positive scales") }
        if let o = offsets.first(where: { !$0.isFinite }) { throw bad("offsets", o, "finite offsets") }
        // The largest stored level must restore to a finite value, or the series holds infinities.
        let top = Float(bits == 16 ? UInt16.max : UInt16(UInt8.max))
        if let i = scales.indices.first(where: { !(top * scales[$0] + offsets[$0]).isFinite }) {
            throw bad("scales", scales[i], "a scale whose largest stored level \(top) x scale + offset \(offsets[i]) is finite")
        }
        if let problem = ffa?.problem { throw bad("ffa", problem, "options an FFA can run with") }
        if let sp = singlePulse, let problem = sp.problem { throw bad("singlePulse", problem, "options a single-pulse search can run with") }
        guard dataByteCount != nil else {
            throw bad("samplesPerSeries", samplesPerSeries, "a size whose data fits in memory for \(n) series")
        }
    }
}

/// What a worker uploads after searching a unit.
public struct WorkUnitResult: Codable, Sendable, Equatable {
    /// The unit searched.
    public var workUnitID: String
    /// Every candidate of every series and acceleration trial at or above the header's threshold.
    public var candidates: [SeriesCandidate]
    /// One toplist per trial searched, in trial order (series-major: `series * accelerations +
    /// acceleration`), each of the header's `search.toplistSize` entries: the proof of work the
    /// coordinator spot-checks.
    public var toplists: [SpectrumToplist]
    /// CPU time the search took, s.
    public var cpuSeconds: Double
    /// Wall-clock time the search took, s.
    public var elapsedSeconds: Double
    /// Series searched: series x acceleration trials.
    public var seriesSearched: Int
    /// Worker software and libraries, e.g. "xunxing-worker 0.1 fftw-3.3.10".
    public var software: String
    /// Peaks measured by Fourier interpolation over all trials (at most `2 x maxCandidates` per
    /// trial, at least the candidates): measuring them is part of the unit's credited cost.
    public var peaksMeasured: Int
    /// The single-pulse search's boxcar hits, series by series (each series' strongest
    /// `singlePulse.maxHitsPerSeries`), when the header asked for it; nil otherwise.
    public var singlePulseHits: [SinglePulseHit]?
    /// The single-pulse options the hits were found with (the header's, which the coordinator's
    /// audit checks): replicas are compared against its threshold and hit limit.
    public var singlePulseOptions: SinglePulseUnitOptions?

    public init(
        workUnitID: String, candidates: [SeriesCandidate], toplists: [SpectrumToplist] = [], cpuSeconds: Double,
        elapsedSeconds: Double, seriesSearched: Int, software: String, peaksMeasured: Int = 0,
        singlePulseHits: [SinglePulseHit]? = nil, singlePulseOptions: SinglePulseUnitOptions? = nil
    ) {
        self.singlePulseHits = singlePulseHits
        self.singlePulseOptions = singlePulseOptions
        self.workUnitID = workUnitID
        self.candidates = candidates
        self.toplists = toplists
        self.cpuSeconds = cpuSeconds
        self.elapsedSeconds = elapsedSeconds
        self.seriesSearched = seriesSearched
        self.software = software
        self.peaksMeasured = peaksMeasured
    }

    enum CodingKeys: String, CodingKey {
        case workUnitID, candidates, toplists, cpuSeconds, elapsedSeconds, seriesSearched, software, peaksMeasured
        case singlePulseHits, singlePulseOptions
    }

    /// Decodes a result; `toplists` may be absent (such a result is judged invalid, not refused).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        workUnitID = try c.decode(String.self, forKey: .workUnitID)
        candidates = try c.decode([SeriesCandidate].self, forKey: .candidates)
        toplists = try c.decodeIfPresent([SpectrumToplist].self, forKey: .toplists) ?? []
        cpuSeconds = try c.decode(Double.self, forKey: .cpuSeconds)
        elapsedSeconds = try c.decode(Double.self, forKey: .elapsedSeconds)
        seriesSearched = try c.decode(Int.self, forKey: .seriesSearched)
        software = try c.decode(String.self, forKey: .software)
        peaksMeasured = try c.decodeIfPresent(Int.self, forKey: .peaksMeasured) ?? 0
        singlePulseHits = try c.decodeIfPresent([SinglePulseHit].self, forKey: .singlePulseHits)
        singlePulseOptions = try c.decodeIfPresent(SinglePulseUnitOptions.self, forKey: .singlePulseOptions)
    }
}

/// The single-pulse search a work unit asks for, on each of its (dedispersed, downsampled) series.
public struct SinglePulseUnitOptions: Codable, Sendable, Equatable {
    /// Lowest boxcar S/N reported.
    public var snrThreshold: Double = 6
    /// Widest boxcar, seconds.
    public var maxWidth: Double = 0.1
    /// Seconds per block of the running median and MAD normalisation.
    public var normalisationSeconds: Double = 1
    /// Strongest hits reported per series: a series full of interference cannot flood the result.
    public var maxHitsPerSeries: Int = 200

    public init(snrThreshold: Double = 6, maxWidth: Double = 0.1, normalisationSeconds: Double = 1, maxHitsPerSeries: Int = 200) {
        self.snrThreshold = snrThreshold
        self.maxWidth = maxWidth
        self.normalisationSeconds = normalisationSeconds
        self.maxHitsPerSeries = maxHitsPerSeries
    }

    enum CodingKeys: String, CodingKey { case snrThreshold, maxWidth, normalisationSeconds, maxHitsPerSeries }

    /// Decodes options; a field left out takes its default.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = SinglePulseUnitOptions()
        snrThreshold = try c.decodeIfPresent(Double.self, forKey: .snrThreshold) ?? d.snrThreshold
        maxWidth = try c.decodeIfPresent(Double.self, forKey: .maxWidth) ?? d.maxWidth
        normalisationSeconds = try c.decodeIfPresent(Double.self, forKey: .normalisationSeconds) ?? d.normalisationSeconds
        maxHitsPerSeries = try c.decodeIfPresent(Int.self, forKey: .maxHitsPerSeries) ?? d.maxHitsPerSeries
    }

    /// The first option that cannot work, with its value; nil when all can.
    public var problem: String? {
        if !(snrThreshold.isFinite && snrThreshold > 0) { return "snrThreshold \(snrThreshold) must be positive" }
        if !(maxWidth.isFinite && maxWidth > 0) { return "maxWidth \(maxWidth) must be a positive number of seconds" }
        if !(normalisationSeconds.isFinite && normalisationSeconds > 0) { return "normalisationSeconds \(normalisationSeconds) must be positive" }
        if !(1...100_000).contains(maxHitsPerSeries) { return "maxHitsPerSeries \(maxHitsPerSeries) must be 1-100000" }
        return nil
    }

    /// The boxcar search of a series sampled every `sampleTime` seconds.
    public func boxcar(sampleTime: Double) -> BoxcarSearch {
        BoxcarSearch(
            maxWidth: maxWidth, sampleTime: sampleTime, threshold: snrThreshold, normalisationSeconds: normalisationSeconds,
            maxHits: maxHitsPerSeries)
    }
}
