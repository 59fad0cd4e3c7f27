import Foundation
import PulsarSearch

/// The words and panels of a fold's diagnostics, for `xunxing fold` and the candidate pages.
public enum FoldFacts {
    /// The header lines: best values with uncertainties, the fold's quality, the observation.
    public static func lines(_ d: FoldDiagnostics) -> [String] {
        var lines = [
            "P    = " + PrestoAccelFile.valueWithError(d.period * 1000, d.periodUncertainty * 1000, digits: 2) + " ms",
            "Pdot = " + scientific(d.periodDerivative, d.periodDerivativeUncertainty) + " s/s",
            "DM   = " + PrestoAccelFile.valueWithError(d.dm, d.dmUncertainty, digits: 2) + " pc cm^-3",
            String(format: "reduced chi2 %.2f, S/N %.1f, %d bins, %d sub-integrations, %d subbands, %.1f s",
                   d.reducedChiSquare, d.snr, d.profile.count, d.timePhase.count, d.frequencyPhase.count, d.duration),
        ]
        let q = CandidateQuality(d)
        lines.append(String(format: "quality %.2f (time %.2f x frequency %.2f x dispersion %.2f x narrowness %.2f)",
                            q.score, q.timePersistence, q.frequencyPersistence, q.dispersion, q.narrowness))
        if let o = d.observation { lines.append(o.summary) }
        return lines
    }

    /// `value(error)` scaled by a power of ten, `(1.2(4))e-8`, for numbers far below 1.
    public static func scientific(_ value: Double, _ error: Double) -> String {
        guard error.isFinite, error > 0, max(abs(value), error) < 1e-3 else { return PrestoAccelFile.valueWithError(value, error, digits: 2) }
        let k = Int(log10(max(abs(value), error)).rounded(.down))
        let scale = pow(10, Double(k))
        return "(" + PrestoAccelFile.valueWithError(value / scale, error / scale, digits: 2) + ")e\(k)"
    }

    public static func panels(_ d: FoldDiagnostics, title: String) -> FoldCharts.Panels {
        FoldCharts.Panels(
            title: title, facts: lines(d), profile: d.profile, timePhase: d.timePhase, times: d.subintegrationTimes,
            frequencyPhase: d.frequencyPhase, frequencies: d.subbandFrequencies, dmCurve: d.dmCurve.map { ($0.x, $0.reducedChiSquare) },
            periodCurve: d.periodCurve.map { ($0.x, $0.reducedChiSquare) }, ppdot: d.ppdot, periods: d.ppdotPeriods, derivatives: d.ppdotDerivatives,
            bestPeriod: d.period)
    }
}
