import Foundation

/// A score in [0, 1] of how much a folded candidate looks like a pulsar rather than interference,
/// from the four things an astronomer checks on a prepfold plot:
///
/// - **persistence in time**: a pulsar shines in every sub-integration, a burst of interference in
///   a few. The on-pulse amplitude `a_r` of each sub-integration (its mean over the profile's
///   on-pulse bins, those above half the peak) gives the participation ratio
///   `(sum a_r)^2 / (n sum a_r^2)` over the rows with `a_r > 0` (1: equal in all n rows, 1/n: one
///   row), rows with `a_r <= 0` counting as empty;
/// - **persistence in frequency**: the same over subbands (narrowband interference sits in a few);
/// - **dispersion**: a pulsar's DM stands clear of 0, `min(1, DM / max(2, 3 sigma_DM))`
///   (undispersed interference peaks at DM 0);
/// - **width**: a pulsar's pulse is narrow, `1 - duty cycle` (the on-pulse fraction of the
///   profile; a sinusoid's is about a half).
///
/// The score is their product: a candidate must pass every test; each factor is kept, so a page
/// can say which test failed. Rows are in noise sigma, so the score does not grow with S/N.
public struct CandidateQuality: Sendable, Codable, Equatable {
    public var score: Double
    public var timePersistence: Double
    public var frequencyPersistence: Double
    public var dispersion: Double
    public var narrowness: Double

    enum CodingKeys: String, CodingKey {
        case score, timePersistence = "time_persistence", frequencyPersistence = "frequency_persistence", dispersion, narrowness
    }

    public init(_ d: FoldDiagnostics) {
        let nb = d.profile.count
        let peak = d.profile.max() ?? 0
        let onPulse = d.profile.indices.filter { peak > 0 && d.profile[$0] >= peak / 2 }
        func persistence(_ rows: [[Float]]) -> Double {
            guard !onPulse.isEmpty, !rows.isEmpty else { return 0 }
            let amplitudes = rows.map { row in Double(onPulse.reduce(Float(0)) { $0 + row[$1] }) / Double(onPulse.count) }
            let positive = amplitudes.map { max(0, $0) }
            let sum = positive.reduce(0, +), squares = positive.reduce(0) { $0 + $1 * $1 }
            return squares > 0 ? sum * sum / (Double(rows.count) * squares) : 0
        }
        timePersistence = persistence(d.timePhase)
        frequencyPersistence = persistence(d.frequencyPhase)
        dispersion = min(1, max(0, d.dm) / max(2, 3 * (d.dmUncertainty.isFinite ? d.dmUncertainty : 0)))
        narrowness = nb > 0 ? 1 - Double(onPulse.count) / Double(nb) : 0
        score = timePersistence * frequencyPersistence * dispersion * narrowness
    }
}
