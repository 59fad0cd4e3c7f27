import Foundation

/// A periodicity that survived sifting: the best detection of one signal across DM and acceleration
/// trials, with every DM it was seen at.
public struct SiftedCandidate: Sendable, Equatable {
    /// The strongest detection.
    public var best: SeriesCandidate
    /// DM trial indices where the signal was detected, ascending.
    public var dmIndices: [Int]
    /// Strongest sigma at each DM in `dmIndices` (same order).
    public var sigmaByDM: [Double]
    /// DMs matching `dmIndices`.
    public var dms: [Double]
}

/// Sifting rules, after PRESTO's sifting.py, with two changes: harmonic relations are only the
/// ratios a harmonic sum can produce, and two signals are only related when their DMs agree. A sum of
/// N harmonics at (p/q) f, p/q in lowest terms, contains harmonics of a pulsar at f only in its
/// terms h = q, 2q, ..., so it can be that pulsar's echo only when q <= N; PRESTO's fixed list of
/// p/q up to 16 also removes real, weak pulsars summed over fewer harmonics than q.
public struct SiftParameters: Sendable, Codable, Equatable {
    /// A signal must reach this sigma at its best DM.
    public var sigmaThreshold: Double = 5.0
    /// Detections within this many Fourier bins (1/T) are the same signal.
    public var frequencyTolerance: Double = 1.1
    /// Detections at this many distinct DM trials, two of them neighbours, are required when the
    /// search had more than one DM trial.
    public var minDMHits: Int = 2
    /// When more than one DM was searched, signals whose best DM is below this (pc/cm^3) are
    /// dropped: terrestrial interference is undispersed and peaks at DM 0.
    public var minDM: Double = 2
    /// Ratios p/q with p and q up to this can relate two signals (q also at most the weaker
    /// signal's harmonic count).
    public var maxHarmonic: Int = 16
    /// A signal at an integer multiple of a stronger one replaces it when within this many sigma.
    public var fundamentalPreference: Double = 1
    /// Periods outside this range (s) are dropped.
    public var minPeriod: Double = 0.0005
    public var maxPeriod: Double = 15

    public init() {}

    /// The ratios p/q (p != q, in lowest terms) that relate two signals.
    var harmonicRatios: [(p: Int, q: Int)] {
        var ratios: [(p: Int, q: Int)] = []
        for q in 1...max(1, maxHarmonic) {
            for p in 1...max(1, maxHarmonic) where p != q && gcd(p, q) == 1 {
                ratios.append((p, q))
            }
        }
        return ratios
    }
}

private func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }

/// Merges the candidate lists of many series into a list of distinct pulsar candidates.
public struct CandidateSifter: Sendable {
    public var parameters: SiftParameters

    public init(parameters: SiftParameters = SiftParameters()) { self.parameters = parameters }

    /// Sifts `candidates` from series of `duration` seconds; `dmTrialCount` is the number of DM
    /// trials searched (the DM-hit rule applies only when it exceeds 1).
    public func sift(_ candidates: [SeriesCandidate], duration: Double, dmTrialCount: Int) -> [SiftedCandidate] {
        let tolerance = parameters.frequencyTolerance / duration
        let usable = candidates.filter {
            $0.frequency > 0 && 1 / $0.frequency >= parameters.minPeriod && 1 / $0.frequency <= parameters.maxPeriod
        }.sorted { $0.sigma > $1.sigma }

        // 1. Group detections of the same frequency (strongest first; groups kept sorted by frequency).
        var groups: [Group] = []
        for c in usable {
            var lo = 0, hi = groups.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if groups[mid].frequency < c.frequency - tolerance { lo = mid + 1 } else { hi = mid }
            }
            if lo < groups.count && groups[lo].frequency <= c.frequency + tolerance {
                groups[lo].add(c)
            } else {
                groups.insert(Group(c), at: lo)
            }
        }

        // 2. DM rules.
        var survivors = groups.filter { g in
            guard g.best.sigma >= parameters.sigmaThreshold else { return false }
            guard dmTrialCount > 1 else { return true }
            guard g.best.dm >= parameters.minDM else { return false }
            guard parameters.minDMHits > 1 else { return true }
            let indices = g.sigmaByDM.keys.sorted()
            guard indices.count >= parameters.minDMHits else { return false }
            // Adjacent trials; indices come from hosts' reports, so no subtraction that can overflow.
            return zip(indices, indices.dropFirst()).contains { $0 != .max && $1 == $0 + 1 }
        }.sorted { $0.best.sigma > $1.best.sigma }

        // 3. Harmonics: a weaker signal at a harmonic ratio of a stronger one, at the same DM, is
        // dropped; the strongest of each family is kept, except that a relative at a multiple n f
        // that is nearly as significant (within `fundamentalPreference`) and sums fewer harmonics
        // replaces it: the stronger is then the subharmonic echo (its sum's every n-th term is the
        // real pulsar, so it needs n times the harmonics).
        let ratios = parameters.harmonicRatios
        var kept: [Group] = []
        for g in survivors {
            if let i = kept.firstIndex(where: {
                sameDM(g, $0) && isHarmonic(g.best, of: $0.best, duration: duration, ratios: ratios)
            }) {
                if replaces(g.best, kept[i].best, duration: duration) { kept[i] = g }
                continue
            }
            kept.append(g)
        }
        survivors = kept
        return survivors.map { g in
            let indices = g.sigmaByDM.keys.sorted()
            return SiftedCandidate(
                best: g.best, dmIndices: indices, sigmaByDM: indices.map { g.sigmaByDM[$0]!.0 },
                dms: indices.map { g.sigmaByDM[$0]!.1 })
        }
    }

    /// True when `candidate` lies at (p/q) x `reference`'s frequency for one of `ratios` with q no
    /// more than the candidate's harmonics, within their combined uncertainty: a detection summing
    /// h harmonics measures the frequency to about 1/(h T).
    func isHarmonic(_ candidate: SeriesCandidate, of reference: SeriesCandidate, duration: Double,
                    ratios: [(p: Int, q: Int)]) -> Bool {
        let scale = parameters.frequencyTolerance / duration
        let own = scale / Double(max(1, candidate.harmonics))
        let theirs = scale / Double(max(1, reference.harmonics))
        return ratios.contains { p, q in
            guard q <= max(1, candidate.harmonics) else { return false }
            let ratio = Double(p) / Double(q)
            return abs(candidate.frequency - ratio * reference.frequency) < own + ratio * theirs
        }
    }

    /// True when `weaker`, a relative of `stronger`, is the fundamental of which `stronger` is the
    /// subharmonic echo (see the harmonic rule in `sift`).
    private func replaces(_ weaker: SeriesCandidate, _ stronger: SeriesCandidate, duration: Double) -> Bool {
        guard weaker.sigma >= stronger.sigma - parameters.fundamentalPreference else { return false }
        func integer(_ ratio: Double, _ base: Double) -> Bool {
            let n = ratio.rounded()
            return n >= 2 && abs(ratio - n) * base * duration < parameters.frequencyTolerance
        }
        return integer(weaker.frequency / stronger.frequency, stronger.frequency) && weaker.harmonics < stronger.harmonics
    }

    /// True when the DMs of two signals agree within their uncertainties. A signal's DM is known to
    /// about half the DM range it was detected over (at least the spacing of its DM trials): a
    /// harmonic of a pulsar is seen over the pulsar's DMs, an unrelated pulsar at other DMs.
    private func sameDM(_ a: Group, _ b: Group) -> Bool {
        abs(a.best.dm - b.best.dm) <= a.dmUncertainty + b.dmUncertainty
    }

    private struct Group {
        var frequency: Double
        var best: SeriesCandidate
        var sigmaByDM: [Int: (Double, Double)]

        init(_ c: SeriesCandidate) {
            frequency = c.frequency
            best = c
            sigmaByDM = [c.dmIndex: (c.sigma, c.dm)]
        }

        /// Half the range of DMs the signal was detected at, or the smallest spacing between them
        /// when larger (0 for a single DM).
        var dmUncertainty: Double {
            let dms = sigmaByDM.values.map(\.1).sorted()
            guard let low = dms.first, let high = dms.last, dms.count > 1 else { return 0 }
            let spacing = zip(dms, dms.dropFirst()).map { $1 - $0 }.filter { $0 > 0 }.min() ?? 0
            return max((high - low) / 2, spacing)
        }

        mutating func add(_ c: SeriesCandidate) {
            if c.sigma > best.sigma { best = c }
            if let existing = sigmaByDM[c.dmIndex], existing.0 >= c.sigma { return }
            sigmaByDM[c.dmIndex] = (c.sigma, c.dm)
        }
    }
}
