import Foundation

/// Measures a candidate's DM from the arrival times of its pulse across the band, as pulsar
/// timing does: the observation is dedispersed at the detection DM into subbands, each subband is
/// folded, and each subband profile is cross-correlated with the sum of the others. A DM error
/// shifts subband s by `dDM * delayPerDM[s]`; a weighted straight-line fit of the shifts against
/// `delayPerDM` gives the DM correction and its uncertainty. This uses the whole band's lever arm,
/// where picking the best of the DM trials is at the mercy of noise when the pulse is wide.
public enum DMRefinement {
    /// A fitted DM.
    public struct Result: Sendable, Equatable {
        public var dm: Double
        /// One-sigma uncertainty from the fit's residuals.
        public var uncertainty: Double
        /// Subbands with enough signal to use.
        public var subbandsUsed: Int
    }

    /// Fits the DM from subband series (dedispersed at `dm`, aligned to the top of the band).
    /// Returns nil when fewer than three subbands carry the pulse.
    public static func fit(
        subbands block: DedispersedBlock, delayPerDM: [Double], dm: Double, frequency: Double,
        acceleration: Double = 0, minimumSNR: Double = 2
    ) -> Result? {
        let nsub = block.dms.count
        guard nsub >= 3, frequency > 0 else { return nil }
        let period = 1 / frequency
        let bins = Folder.binCount(period: period, tsamp: block.sampleTime, maximum: 128)
        let profiles: [[Double]] = (0..<nsub).map { s in
            guard delayPerDM[s].isFinite else { return [] }
            let folded = block.withSeries(s) {
                Folder.fold($0, tsamp: block.sampleTime, frequency: frequency, acceleration: acceleration, bins: bins)
            }
            return folded.profile.map(Double.init)
        }
        var total = [Double](repeating: 0, count: bins)
        for p in profiles where !p.isEmpty { for b in 0..<bins { total[b] += p[b] } }

        var xs: [Double] = [], ys: [Double] = [], ws: [Double] = []
        for s in 0..<nsub where !profiles[s].isEmpty {
            let p = profiles[s]
            let template = (0..<bins).map { total[$0] - p[$0] }
            let binNoise = (Double(bins) / Double(max(1, block.length))).squareRoot()
            guard let (lag, snr) = crossCorrelationLag(p, template, binNoise: binNoise), snr >= minimumSNR else { continue }
            xs.append(delayPerDM[s])
            ys.append(lag / Double(bins) * period)
            ws.append(snr * snr)
        }
        guard xs.count >= 3 else { return nil }
        // Weighted least squares y = a + b x.
        let sw = ws.reduce(0, +)
        let mx = zip(xs, ws).reduce(0) { $0 + $1.0 * $1.1 } / sw
        let my = zip(ys, ws).reduce(0) { $0 + $1.0 * $1.1 } / sw
        var sxx = 0.0, sxy = 0.0
        for i in xs.indices {
            sxx += ws[i] * (xs[i] - mx) * (xs[i] - mx)
            sxy += ws[i] * (xs[i] - mx) * (ys[i] - my)
        }
        guard sxx > 0 else { return nil }
        let slope = sxy / sxx
        var rss = 0.0
        for i in xs.indices {
            let r = ys[i] - (my + slope * (xs[i] - mx))
            rss += ws[i] * r * r
        }
        let dof = Double(max(1, xs.count - 2))
        let uncertainty = (rss / dof / sxx).squareRoot()
        return Result(dm: dm + slope, uncertainty: uncertainty, subbandsUsed: xs.count)
    }

    /// Lag (in bins, fractional) at which `profile` best matches `template`, and the profile's S/N
    /// in that match given the noise of one profile bin; nil for a flat template.
    static func crossCorrelationLag(_ profile: [Double], _ template: [Double], binNoise: Double) -> (Double, Double)? {
        let n = profile.count
        let tMean = template.reduce(0, +) / Double(n)
        let pMean = profile.reduce(0, +) / Double(n)
        let t = template.map { $0 - tMean }
        let tNorm = t.reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard tNorm > 0 else { return nil }
        var cc = [Double](repeating: 0, count: n)
        for lag in 0..<n {
            var s = 0.0
            for b in 0..<n { s += (profile[(b + lag) % n] - pMean) * t[b] }
            cc[lag] = s
        }
        let best = cc.indices.max { cc[$0] < cc[$1] }!
        let a = cc[(best - 1 + n) % n], b = cc[best], c = cc[(best + 1) % n]
        let denominator = a - 2 * b + c
        let delta = denominator != 0 ? 0.5 * (a - c) / denominator : 0
        var lag = Double(best) + max(-0.5, min(0.5, delta))
        if lag > Double(n) / 2 { lag -= Double(n) }
        let snr = b / tNorm / binNoise
        return (lag, snr)
    }
}
