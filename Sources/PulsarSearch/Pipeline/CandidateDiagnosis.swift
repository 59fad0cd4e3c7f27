import Foundation

/// The strongest candidates of a list folded again as prepfold does (``FoldDiagnostics``, one
/// pass over the data each) and scored (``CandidateQuality``); those are then ordered by quality,
/// so that a pulsar ranks above interference that happens to be stronger. Candidates past `top`
/// keep their order, after them.
public enum CandidateDiagnosis {
    /// Candidates diagnosed by default: each costs a pass over the data.
    public static let defaultCount = 5

    /// `weights`: the source's channel weights, if measured already (else measured once here);
    /// `progress` hears of each candidate diagnosed (phase `diagnosing`).
    public static func diagnose(
        _ candidates: inout [Candidate], source: any SpectrumSource, observation: ObservationInfo?, top: Int = defaultCount,
        weights known: ChannelWeights? = nil, progress: ((SearchProgress) -> Void)? = nil
    ) throws {
        let count = min(top, candidates.count)
        guard count > 0 else { return }
        let weights = try known ?? ChannelWeights.measure(source)
        for i in 0..<count {
            progress?(SearchProgress(phase: .diagnosing, completed: i, total: count))
            let c = candidates[i]
            let pdot = c.periodS * c.accelMS2 / AccelerationPlan.speedOfLight
            let d = try FoldDiagnostics.measure(source, observation: observation, period: c.periodS, dm: c.dm, periodDerivative: pdot, weights: weights)
            candidates[i].diagnostics = d
            candidates[i].quality = CandidateQuality(d)
        }
        let ordered = candidates[0..<count].enumerated().sorted {
            let a = $0.element.quality?.score ?? 0, b = $1.element.quality?.score ?? 0
            return a != b ? a > b : $0.offset < $1.offset
        }.map(\.element)
        candidates.replaceSubrange(0..<count, with: ordered)
        progress?(SearchProgress(phase: .diagnosing, completed: count, total: count))
        try source.seek(toSpectrum: 0)
    }
}
