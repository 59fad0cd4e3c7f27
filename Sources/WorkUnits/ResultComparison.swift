import PulsarSearch
import XunxingProtocol

/// How far two replicas' candidates may differ and still count as the same detection.
public struct ComparisonTolerance: Sendable, Codable, Equatable {
    /// Largest frequency difference, Fourier bins of the series (1 / duration).
    public var frequencyBins: Double = 0.5
    /// Largest absolute sigma difference...
    public var sigma: Double = 0.5
    /// ...or this fraction of the larger sigma, whichever is more.
    public var sigmaRelative: Double = 0.05
    /// Candidates below the reporting threshold plus this margin may be missing from one replica.
    public var marginalSigma: Double = 1.0
    /// How far replicas' toplists may differ.
    public var toplist: ToplistTolerance = .init()

    public init(
        frequencyBins: Double = 0.5, sigma: Double = 0.5, sigmaRelative: Double = 0.05, marginalSigma: Double = 1.0,
        toplist: ToplistTolerance = .init()
    ) {
        self.frequencyBins = frequencyBins
        self.sigma = sigma
        self.sigmaRelative = sigmaRelative
        self.marginalSigma = marginalSigma
        self.toplist = toplist
    }
}

/// The validator's rule for deciding whether replicas of a unit found the same thing. Floating
/// point differs across CPUs, compilers and FFTW plans, so results are never compared bytewise.
public enum ResultComparison {
    /// Whether two results of one unit agree:
    ///
    /// - same `workUnitID` and same `seriesSearched`;
    /// - every frequency and sigma finite;
    /// - every *strong* candidate of either (sigma >= `reportingThreshold + marginalSigma`) has a
    ///   counterpart in the other: same `dmIndex`, same acceleration trial (equal to 1e-9 relative),
    ///   `|f1 - f2| * duration <= frequencyBins` and `|sigma1 - sigma2| <= max(sigma,
    ///   sigmaRelative * max(sigma1, sigma2))`.
    ///
    /// The harmonic count is not compared: where two harmonic stages give almost the same
    /// significance, rounding can tip the choice either way with the same frequency and sigma.
    /// Candidates below the strong level may be missing from one side (rounding can push them
    /// across the reporting threshold) and are otherwise ignored. `duration` is the series
    /// length in seconds (samplesPerSeries x sampleTime), which sets the Fourier bin width.
    /// - every trial's toplist agrees (``ToplistTolerance/difference(_:_:)``);
    /// - the single-pulse hits agree (``hitsAgree(_:_:marginalSNR:)``), FFA detections are matched
    ///   only with FFA detections.
    ///
    /// The rule is symmetric.
    public static func agree(
        _ a: WorkUnitResult, _ b: WorkUnitResult, duration: Double, reportingThreshold: Double,
        tolerance: ComparisonTolerance = .init()
    ) -> Bool {
        guard a.toplists.count == b.toplists.count else { return false }
        for (x, y) in zip(a.toplists, b.toplists) where tolerance.toplist.difference(x, y) != nil { return false }
        return candidatesAgree(a, b, duration: duration, reportingThreshold: reportingThreshold, tolerance: tolerance)
            && hitsAgree(a, b)
    }

    /// The candidate half of ``agree(_:_:duration:reportingThreshold:tolerance:)``: toplists not compared.
    public static func candidatesAgree(
        _ a: WorkUnitResult, _ b: WorkUnitResult, duration: Double, reportingThreshold: Double,
        tolerance: ComparisonTolerance = .init()
    ) -> Bool {
        guard a.workUnitID == b.workUnitID, a.seriesSearched == b.seriesSearched else { return false }
        let wellFormed = { (c: SeriesCandidate) in c.frequency.isFinite && c.sigma.isFinite && c.acceleration.isFinite }
        guard a.candidates.allSatisfy(wellFormed), b.candidates.allSatisfy(wellFormed) else { return false }
        let strong = reportingThreshold + tolerance.marginalSigma
        let left = SeriesIndex(a.candidates), right = SeriesIndex(b.candidates)
        func covered(_ from: [SeriesCandidate], by other: SeriesIndex) -> Bool {
            from.allSatisfy { c in
                c.sigma < strong || other.candidates(near: c).contains { match(c, $0, duration: duration, tolerance: tolerance) }
            }
        }
        return covered(a.candidates, by: right) && covered(b.candidates, by: left)
    }

    /// Whether two results' single-pulse hits agree: both absent, or found with the same options,
    /// and every *strong* hit of either has a counterpart in the other at the same DM trial and
    /// width, starting within one width, with an S/N within `max(0.3, 5%)`. A hit is strong when
    /// it is `marginalSNR` above the options' threshold; in a series where either side reports the
    /// most hits allowed (where the cut of the strongest falls depends on rounding), when it is
    /// `marginalSNR` above the weakest hit either reports there. Weaker hits may be missing from one
    /// side. Symmetric.
    public static func hitsAgree(_ a: WorkUnitResult, _ b: WorkUnitResult, marginalSNR: Float = 1) -> Bool {
        guard let left = a.singlePulseHits, let right = b.singlePulseHits else {
            return a.singlePulseHits == nil && b.singlePulseHits == nil
        }
        guard let options = a.singlePulseOptions, b.singlePulseOptions == options else { return false }
        guard left.allSatisfy({ $0.snr.isFinite && $0.width >= 1 }), right.allSatisfy({ $0.snr.isFinite && $0.width >= 1 }) else {
            return false
        }
        let byLeft = Dictionary(grouping: left) { $0.dmIndex }, byRight = Dictionary(grouping: right) { $0.dmIndex }
        var floor: [Int: Float] = [:]
        for dmIndex in Set(byLeft.keys).union(byRight.keys) {
            let l = byLeft[dmIndex] ?? [], r = byRight[dmIndex] ?? []
            let full = l.count >= options.maxHitsPerSeries || r.count >= options.maxHitsPerSeries
            floor[dmIndex] = full ? (l + r).map(\.snr).min()! : Float(options.snrThreshold)
        }
        func covered(_ hits: [SinglePulseHit], by other: [Int: [SinglePulseHit]]) -> Bool {
            hits.allSatisfy { h in
                h.snr < (floor[h.dmIndex] ?? 0) + marginalSNR || (other[h.dmIndex] ?? []).contains { o in
                    o.width == h.width && abs(o.start - h.start) <= h.width
                        && abs(o.snr - h.snr) <= max(0.3, 0.05 * max(o.snr, h.snr))
                }
            }
        }
        return covered(left, by: byRight) && covered(right, by: byLeft)
    }

    /// Whether `d` is the same detection as `c`.
    static func match(_ c: SeriesCandidate, _ d: SeriesCandidate, duration: Double, tolerance: ComparisonTolerance) -> Bool {
        guard c.dmIndex == d.dmIndex, c.method == d.method, sameTrial(c.acceleration, d.acceleration) else { return false }
        guard abs(c.frequency - d.frequency) * duration <= tolerance.frequencyBins else { return false }
        let allowed = max(tolerance.sigma, tolerance.sigmaRelative * max(c.sigma, d.sigma))
        return abs(c.sigma - d.sigma) <= allowed
    }

    static func sameTrial(_ x: Double, _ y: Double) -> Bool {
        abs(x - y) <= 1e-9 * max(1, abs(x), abs(y))
    }

    /// The largest set of results that agree pairwise, as indices in increasing order (the earliest
    /// such set when several are equally large); nil when no two agree. Meant for the handful of
    /// replicas of one unit; the search is exhaustive.
    public static func canonical(
        _ results: [WorkUnitResult], duration: Double, reportingThreshold: Double,
        tolerance: ComparisonTolerance = .init()
    ) -> [Int]? {
        let n = results.count
        guard n >= 2 else { return nil }
        var agrees = [[Bool]](repeating: [Bool](repeating: false, count: n), count: n)
        for i in 0..<n {
            for j in (i + 1)..<n where agree(results[i], results[j], duration: duration,
                reportingThreshold: reportingThreshold, tolerance: tolerance) {
                agrees[i][j] = true
                agrees[j][i] = true
            }
        }
        var best: [Int] = []
        // Extend `chosen` with candidates after `next`, all agreeing with every chosen index.
        func extend(_ chosen: [Int], from next: Int) {
            if chosen.count > best.count { best = chosen }
            guard chosen.count + (n - next) > best.count else { return }
            for k in next..<n where chosen.allSatisfy({ agrees[$0][k] }) {
                extend(chosen + [k], from: k + 1)
            }
        }
        extend([], from: 0)
        return best.count >= 2 ? best : nil
    }
}

/// Candidates grouped by DM index, so matching is linear in the candidates of one series.
private struct SeriesIndex {
    private var byDM: [Int: [SeriesCandidate]] = [:]

    init(_ candidates: [SeriesCandidate]) {
        for c in candidates { byDM[c.dmIndex, default: []].append(c) }
    }

    func candidates(near c: SeriesCandidate) -> [SeriesCandidate] { byDM[c.dmIndex] ?? [] }
}
