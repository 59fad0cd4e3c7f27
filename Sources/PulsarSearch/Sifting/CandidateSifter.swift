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

/// Sifting rules, after PRESTO's ACCEL_sift.
public struct SiftParameters: Sendable, Codable, Equatable {
    /// A signal must reach this sigma at its best DM.
    public var sigmaThreshold: Double = 5.0
    /// Detections within this many Fourier bins (1/T) are the same signal.
    public var frequencyTolerance: Double = 1.1
    /// Detections at this many distinct DM trials, two of them neighbours, are required when the
    /// search had more than one DM trial.
    public var minDMHits: Int = 2
    /// Signals whose best DM is below this are dropped (terrestrial interference peaks at DM 0).
    public var minDM: Double = 0
    /// Harmonic ratios p/q with p, q up to this are treated as the same pulsar.
    public var maxHarmonicRatio: Int = 16
    /// A signal at an integer multiple of a stronger one replaces it when within this many sigma.
    public var fundamentalPreference: Double = 1
    /// Periods outside this range (s) are dropped.
    public var minPeriod: Double = 0.0005
    public var maxPeriod: Double = 15

    public init() {}
}

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
            guard g.best.sigma >= parameters.sigmaThreshold, g.best.dm >= parameters.minDM else { return false }
            guard dmTrialCount > 1, parameters.minDMHits > 1 else { return true }
            let indices = g.sigmaByDM.keys.sorted()
            guard indices.count >= parameters.minDMHits else { return false }
            // Adjacent trials; indices come from hosts' reports, so no subtraction that can overflow.
            return zip(indices, indices.dropFirst()).contains { $0 != .max && $1 == $0 + 1 }
        }.sorted { $0.best.sigma > $1.best.sigma }

        // 3. Harmonics: a weaker signal at a small rational multiple of a stronger one is dropped.
        // When the weaker of a related pair sits at an integer multiple of the stronger and is
        // nearly as significant, the stronger is the subharmonic echo (its sum's every p-th term is
        // the real pulsar): the higher frequency is kept in its place.
        var kept: [Group] = []
        for g in survivors {
            if let i = kept.firstIndex(where: { isHarmonic(g.best, of: $0.best, duration: duration) }) {
                let ratio = g.best.frequency / kept[i].best.frequency
                let multiple = ratio.rounded()
                if multiple >= 2, abs(ratio - multiple) * kept[i].best.frequency * duration < parameters.frequencyTolerance,
                    g.best.sigma >= kept[i].best.sigma - parameters.fundamentalPreference
                {
                    kept[i] = g
                }
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

    /// True when `candidate` lies at (p/q) x `reference`'s frequency for small integers p, q (not 1/1)
    /// within their combined uncertainty: a detection summing h harmonics measures the frequency
    /// to about 1/(h T).
    func isHarmonic(_ candidate: SeriesCandidate, of reference: SeriesCandidate, duration: Double) -> Bool {
        let n = parameters.maxHarmonicRatio
        let scale = parameters.frequencyTolerance / duration
        let own = scale / Double(max(1, candidate.harmonics))
        let theirs = scale / Double(max(1, reference.harmonics))
        for q in 1...n {
            for p in 1...n where p != q && gcd(p, q) == 1 {
                let ratio = Double(p) / Double(q)
                if abs(candidate.frequency - ratio * reference.frequency) < own + ratio * theirs { return true }
            }
        }
        return false
    }

    private func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }

    private struct Group {
        var frequency: Double
        var best: SeriesCandidate
        var sigmaByDM: [Int: (Double, Double)]

        init(_ c: SeriesCandidate) {
            frequency = c.frequency
            best = c
            sigmaByDM = [c.dmIndex: (c.sigma, c.dm)]
        }

        mutating func add(_ c: SeriesCandidate) {
            if c.sigma > best.sigma { best = c }
            if let existing = sigmaByDM[c.dmIndex], existing.0 >= c.sigma { return }
            sigmaByDM[c.dmIndex] = (c.sigma, c.dm)
        }
    }
}
