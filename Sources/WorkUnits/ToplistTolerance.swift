import PulsarSearch

/// How far two honest computations of one toplist may differ: the same series transformed by
/// different FFTW plans (codelets chosen per CPU and per planning rigour), or a reported power
/// recomputed by a single-bin DFT in double precision.
///
/// Measured on simulated units (`AuditTests`, "measured spread", prints the figures): between
/// FFTW's ESTIMATE and MEASURE plans whitened powers differed by at most 5.7e-7 relative and
/// |X_k|^2 by 2.1e-7, with no bin swapped; FFTW's |X_k|^2 against the double-precision DFT by
/// 2.5e-7. The defaults (1e-4) are over 150x that, room for other CPUs' codelets and fused
/// multiply-adds, and still far below anything a forger could guess. Toplist entries are the
/// strongest bins of their spectrum, so rounding is small against them.
public struct ToplistTolerance: Sendable, Codable, Equatable {
    /// Largest relative difference of an entry's |X_k|^2.
    public var fourierRelative: Double
    /// Largest relative difference of an entry's whitened power.
    public var powerRelative: Double

    public init(fourierRelative: Double = 1e-4, powerRelative: Double = 1e-4) {
        self.fourierRelative = fourierRelative
        self.powerRelative = powerRelative
    }

    /// Whether two values of one |X_k|^2 agree.
    public func fourierPowersAgree(_ a: Double, _ b: Double) -> Bool {
        abs(a - b) <= fourierRelative * max(abs(a), abs(b))
    }

    /// The first way in which two toplists of one trial differ beyond rounding, or nil. A bin may
    /// be in one list and not the other only where its power ties (within `powerRelative`) with
    /// the other list's weakest entry: rounding can order near-equal bins either way.
    public func difference(_ a: SpectrumToplist, _ b: SpectrumToplist) -> String? {
        guard a.isConsistent, b.isConsistent, a.count == b.count else { return "\(a.count) entries against \(b.count)" }
        guard a.count > 0 else { return nil }
        func index(_ t: SpectrumToplist) -> [Int: Int] {
            Dictionary(t.bins.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        }
        let inA = index(a), inB = index(b)
        func unmatched(_ x: SpectrumToplist, against y: SpectrumToplist, _ other: [Int: Int]) -> String? {
            let weakest = Double(y.powers[y.count - 1])
            for i in 0..<x.count where other[x.bins[i]] == nil {
                let p = Double(x.powers[i])
                if p > weakest * (1 + powerRelative) { return "bin \(x.bins[i]) (power \(p)) is missing from the other list, whose weakest is \(weakest)" }
            }
            return nil
        }
        if let problem = unmatched(a, against: b, inB) ?? unmatched(b, against: a, inA) { return problem }
        for (i, bin) in a.bins.enumerated() {
            guard let j = inB[bin] else { continue }
            let pa = Double(a.powers[i]), pb = Double(b.powers[j])
            guard abs(pa - pb) <= powerRelative * max(pa, pb) else { return "bin \(bin): power \(pa) against \(pb)" }
            guard fourierPowersAgree(a.fourierPowers[i], b.fourierPowers[j]) else {
                return "bin \(bin): |X|^2 \(a.fourierPowers[i]) against \(b.fourierPowers[j])"
            }
        }
        return nil
    }
}
