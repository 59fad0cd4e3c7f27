import Foundation

/// A candidate's catalogued counterpart: the candidate's frequency is `ratio` (n/m) times the
/// pulsar's, at a DM within tolerance, and the pulsar lies in the beam.
public struct KnownPulsarMatch: Sendable, Codable, Equatable {
    /// The pulsar's J2000 name.
    public var name: String
    /// Its period (s) predicted at the observation, and its catalogued DM.
    public var periodS: Double
    public var dm: Double?
    /// Candidate frequency = harmonic / fraction x the pulsar's (1/1: the pulsar itself; 2/1 its
    /// second harmonic; 1/2 half its frequency).
    public var harmonic: Int
    public var fraction: Int
    /// Angular distance from the beam centre, degrees.
    public var separationDeg: Double

    public init(name: String, periodS: Double, dm: Double?, harmonic: Int, fraction: Int, separationDeg: Double) {
        self.name = name
        self.periodS = periodS
        self.dm = dm
        self.harmonic = harmonic
        self.fraction = fraction
        self.separationDeg = separationDeg
    }

    /// `n/m`, as the tables show it.
    public var ratio: String { "\(harmonic)/\(fraction)" }

    enum CodingKeys: String, CodingKey {
        case name, periodS = "period_s", dm, harmonic, fraction, separationDeg = "separation_deg"
    }
}

/// Marks candidates that are catalogued pulsars (or small-integer harmonics or fractions of
/// them) in the beam of an observation, as an astronomer checks a candidate list against psrcat.
///
/// A candidate of frequency f and DM d matches a pulsar in the beam when, for some n, m up to
/// ``maxRatio``, |f - (n/m) f_p| is within 2 Fourier bins (2/T) plus (n/m) times the prediction's
/// tolerance (``KnownPulsar/frequency(atMJD:)``: 5 % of the catalogue's spin-down to the
/// observation's date, and the orbit's Doppler), and |d - DM_p| is within 3 x max(the candidate's
/// DM uncertainty, 5 % of its DM, 0.5). Of several matches the simplest ratio wins, then the
/// closest frequency.
public struct KnownPulsarMatcher: Sendable {
    public var catalogue: PulsarCatalogue
    /// Beam radius, degrees.
    public var radiusDeg: Double
    /// Largest n and m of a harmonic ratio n/m.
    public var maxRatio: Int

    public init(catalogue: PulsarCatalogue, radiusDeg: Double = 0.5, maxRatio: Int = 8) {
        self.catalogue = catalogue
        self.radiusDeg = radiusDeg
        self.maxRatio = maxRatio
    }

    /// Sets each candidate's ``Candidate/knownPulsar`` (nil where nothing matches) for an
    /// observation pointed at (ra, dec) degrees, starting at `mjd`, lasting `duration` seconds.
    public func annotate(_ candidates: inout [Candidate], raDegrees: Double, decDegrees: Double, mjd: Double, duration: Double) {
        let beam = catalogue.within(radius: radiusDeg, ofRA: raDegrees, dec: decDegrees)
        for i in candidates.indices {
            candidates[i].knownPulsar = match(candidates[i], beam: beam, mjd: mjd, duration: duration)
        }
    }

    /// The best match of one candidate among the pulsars in the beam.
    public func match(_ candidate: Candidate, beam: [(pulsar: KnownPulsar, separation: Double)], mjd: Double, duration: Double) -> KnownPulsarMatch? {
        let f = candidate.frequencyHz
        let dmTolerance = 3 * max(candidate.dmUncertainty ?? 0, 0.05 * candidate.dm, 0.5)
        let binTolerance = 2 / max(duration, 1e-9)
        var best: (match: KnownPulsarMatch, rank: (Int, Double))?
        for (pulsar, separation) in beam {
            guard let predicted = pulsar.frequency(atMJD: mjd) else { continue }
            if let dm = pulsar.dm, abs(candidate.dm - dm) > dmTolerance { continue }
            for m in 1...maxRatio {
                let n = Int((f / predicted.value * Double(m)).rounded())
                guard n >= 1, n <= maxRatio, gcd(n, m) == 1 else { continue }
                let ratio = Double(n) / Double(m)
                let offset = abs(f - ratio * predicted.value)
                let tolerance = binTolerance + ratio * predicted.tolerance
                guard offset <= tolerance else { continue }
                let rank = (n + m, offset / tolerance)
                if best == nil || rank < best!.rank {
                    best = (KnownPulsarMatch(name: pulsar.name, periodS: 1 / predicted.value, dm: pulsar.dm, harmonic: n, fraction: m,
                                             separationDeg: separation), rank)
                }
            }
        }
        return best?.match
    }

    private func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
}
