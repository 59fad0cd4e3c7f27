/// What an FFA search covers and how finely: riptide's parameters, with its defaults as the guide.
public struct FFAOptions: Sendable, Codable, Equatable {
    /// Shortest trial period, seconds. Raised to `binsMin` samples when the series is coarser.
    public var periodMin: Double = 0.5
    /// Longest trial period, seconds (lowered to the observation over `minTurns`).
    public var periodMax: Double = 30
    /// Fewest phase bins of a fold. The series is resampled, stage by stage, so that every trial
    /// period is folded into between `binsMin` and `binsMax` bins: the pulse-width resolution is
    /// 1/`binsMax` of the period everywhere.
    public var binsMin: Int = 240
    /// Most phase bins of a fold (about 10% more than `binsMin`).
    public var binsMax: Int = 260
    /// Widest boxcar tried, as a fraction of the period.
    public var dutyCycleMax: Double = 0.2
    /// Ratio between consecutive boxcar widths (1, 2, 3, 4, 6, 9, 13, ... bins for 1.5).
    public var widthStep: Double = 1.5
    /// Window of the running median subtracted before the search, seconds (red noise and baseline
    /// drifts; a pulse narrower than half of it is not touched).
    public var detrendSeconds: Double = 4
    /// A period is searched only when the observation holds at least this many turns of it.
    public var minTurns: Double = 3
    /// Detections kept per series, strongest first, before sifting.
    public var maxPeaksPerSeries: Int = 20

    public init() {}

    enum CodingKeys: String, CodingKey {
        case periodMin, periodMax, binsMin, binsMax, dutyCycleMax, widthStep, detrendSeconds, minTurns, maxPeaksPerSeries
    }

    /// Decodes options; a field left out takes its default (a preset names only what it changes).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = FFAOptions()
        periodMin = try c.decodeIfPresent(Double.self, forKey: .periodMin) ?? d.periodMin
        periodMax = try c.decodeIfPresent(Double.self, forKey: .periodMax) ?? d.periodMax
        binsMin = try c.decodeIfPresent(Int.self, forKey: .binsMin) ?? d.binsMin
        binsMax = try c.decodeIfPresent(Int.self, forKey: .binsMax) ?? d.binsMax
        dutyCycleMax = try c.decodeIfPresent(Double.self, forKey: .dutyCycleMax) ?? d.dutyCycleMax
        widthStep = try c.decodeIfPresent(Double.self, forKey: .widthStep) ?? d.widthStep
        detrendSeconds = try c.decodeIfPresent(Double.self, forKey: .detrendSeconds) ?? d.detrendSeconds
        minTurns = try c.decodeIfPresent(Double.self, forKey: .minTurns) ?? d.minTurns
        maxPeaksPerSeries = try c.decodeIfPresent(Int.self, forKey: .maxPeaksPerSeries) ?? d.maxPeaksPerSeries
    }

    /// Boxcar widths in bins for a fold of `bins` bins: 1, then each `widthStep` times the last (at
    /// least one more), up to `dutyCycleMax` of the fold.
    public func widths(bins: Int) -> [Int] {
        let widest = max(1, Int(dutyCycleMax * Double(bins)))
        var widths: [Int] = []
        var w = 1
        while w <= widest {
            widths.append(w)
            w = max(w + 1, Int(widthStep * Double(w)))
        }
        return widths
    }

    /// A description of the first option that cannot work, naming it and its value; nil when all can.
    public var problem: String? {
        if !(periodMin > 0) { return "the FFA's shortest period must be positive (--ffa-period-min \(periodMin))" }
        if !(periodMax > periodMin) {
            return "the FFA's longest period must exceed its shortest (--ffa-period-max \(periodMax), --ffa-period-min \(periodMin))"
        }
        if binsMin < 8 { return "the FFA needs at least 8 phase bins (--ffa-bins-min \(binsMin))" }
        if binsMax <= binsMin { return "the FFA's bins-max must exceed bins-min (\(binsMax) <= \(binsMin))" }
        if binsMax > 4096 { return "the FFA folds into at most 4096 bins (--ffa-bins-min \(binsMin), bins-max \(binsMax))" }
        if !(dutyCycleMax > 0 && dutyCycleMax < 1) { return "the FFA's largest duty cycle must be in (0, 1) (--ffa-duty-max \(dutyCycleMax))" }
        if !(widthStep > 1) { return "the FFA's width step must exceed 1 (\(widthStep))" }
        if !(detrendSeconds > 0) { return "the FFA's detrending window must be positive (--ffa-detrend \(detrendSeconds))" }
        if !(minTurns >= 1) { return "the FFA needs at least one turn of a period (\(minTurns))" }
        if !(1...10_000).contains(maxPeaksPerSeries) { return "the FFA's peaks per series must be 1-10000 (\(maxPeaksPerSeries))" }
        return nil
    }
}
