import Foundation
@testable import PulsarSearch
import Testing

/// The ATNF catalogue reader and known-pulsar matching, against the real catalogue and against
/// independent arithmetic on random pulsars.
@Suite("Known pulsars: the ATNF catalogue and matching")
struct KnownPulsarTests {
    static var catalogue: String { FormatsFixtures.dataPath("psrcat.db") }

    @Test("the real catalogue (v1.59): every record, the Crab's values, and the records without a period or a position in RA/Dec")
    func realCatalogue() throws {
        let cat = try PulsarCatalogue.read(from: Self.catalogue)
        #expect(cat.version == "1.59")
        #expect(cat.pulsars.count == 2659)
        // Independent counts from the text: records with P0 or F0, and records with ELONG instead of RAJ.
        let text = try String(contentsOfFile: Self.catalogue, encoding: .utf8)
        let records = text.components(separatedBy: "\n@").filter { $0.contains("PSRJ ") }
        let keys = records.map { Set($0.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }) }
        #expect(cat.pulsars.filter { $0.frequency != nil }.count == keys.filter { !$0.isDisjoint(with: ["P0", "F0"]) }.count)
        #expect(cat.pulsars.filter { $0.dm != nil }.count == keys.filter { $0.contains("DM") }.count)
        let crab = try #require(cat.pulsars.first { $0.name == "J0534+2200" })
        #expect(crab.bName == "B0531+21")
        #expect(abs(crab.raDegrees - (5 + 34 / 60.0 + 31.973 / 3600) * 15) < 1e-9)
        #expect(abs(crab.decDegrees - (22 + 52.06 / 3600)) < 1e-9)
        #expect(crab.frequency == 29.946923 && crab.frequencyDerivative == -3.77535e-10 && crab.epochMJD == 48442.5)
        #expect(crab.dm == 56.77118 && crab.orbitalDoppler == 0)
        // A period-only record: J0006+1834, P0 0.69374767047, P1 2.097e-15.
        let p = try #require(cat.pulsars.first { $0.name == "J0006+1834" })
        #expect(abs(p.period! - 0.69374767047) < 1e-15)
        #expect(abs(p.frequencyDerivative - -2.097e-15 / (0.69374767047 * 0.69374767047)) < 1e-25)
        // Every position is on the sky, ecliptic ones included.
        #expect(cat.pulsars.allSatisfy { (0..<360).contains($0.raDegrees) && abs($0.decDegrees) <= 90 })
        // Binary pulsars carry their orbit's Doppler: J0737-3039A, PB 0.102 d, A1 1.415 lt-s, v/c ~ 1e-3.
        let binary = try #require(cat.pulsars.first { $0.name == "J0737-3039A" })
        #expect(binary.orbitalDoppler > 9e-4 && binary.orbitalDoppler < 1.3e-3, "\(binary.orbitalDoppler)")
    }

    @Test("a malformed record is refused naming the file, the line, the key and the value")
    func malformed() throws {
        let good = "PSRJ J0001+0001\nRAJ 00:01:00\nDECJ +00:01:00\nF0 2.5\nDM 10\n@---\n"
        #expect(try PulsarCatalogue.parse(good, file: "t.db").pulsars.count == 1)
        let cases: [(String, String)] = [
            (good + "PSRJ J0002+0002\nRAJ 00:02:00\nDECJ +00:02:00\nF0 abc\n", "t.db:10: field 'F0' has value abc"),
            (good + "PSRJ J0002+0002\nRAJ 25:02:00\nDECJ +00:02:00\n", "t.db:8: field 'RAJ' has value 25:02:00"),
            (good + "PSRJ J0002+0002\nRAJ 01:02:00\nDECJ +95:00:00\n", "t.db:9: field 'DECJ' has value +95:00:00"),
            (good + "PSRJ J0002+0002\nF0 1\n", "t.db: record J0002+0002 at line 7: required field 'RAJ/DECJ or ELONG/ELAT'"),
            (good + "RAJ 01:02:00\nDECJ +05:00:00\n", "t.db: record starting at line 7: required field 'PSRJ'"),
            (good + "PSRJ J0002+0002\nRAJ 01:02:00\nDECJ +05:00:00\nP0 -1\n", "t.db:10: field 'P0' has value -1"),
        ]
        for (text, message) in cases {
            let error = #expect(throws: FormatError.self) { try PulsarCatalogue.parse(text, file: "t.db") }
            #expect("\(error.map { "\($0)" } ?? "")".contains(message), "\(String(describing: error)) should contain \(message)")
        }
    }

    @Test("ecliptic to equatorial and angular separation equal an independent rotation and dot product, on random points")
    func angles() {
        var rng = SeededGenerator(seed: 23)
        let e = 23.439279444 * Double.pi / 180
        for _ in 0..<500 {
            let lon = rng.uniform() * 360, lat = (rng.uniform() * 2 - 1) * 89.9
            let l = lon * .pi / 180, b = lat * .pi / 180
            // Rotate the ecliptic unit vector about x by the obliquity.
            let x = cos(b) * cos(l), y = cos(b) * sin(l) * cos(e) - sin(b) * sin(e), z = cos(b) * sin(l) * sin(e) + sin(b) * cos(e)
            var ra = atan2(y, x) * 180 / .pi
            if ra < 0 { ra += 360 }
            let dec = asin(z) * 180 / .pi
            let got = SkyPosition.equatorial(eclipticLongitude: lon, latitude: lat)
            #expect(abs(got.dec - dec) < 1e-9 && min(abs(got.ra - ra), 360 - abs(got.ra - ra)) * cos(dec * .pi / 180) < 1e-9)
            let ra2 = rng.uniform() * 360, dec2 = (rng.uniform() * 2 - 1) * 90
            func unit(_ r: Double, _ d: Double) -> [Double] {
                [cos(d * .pi / 180) * cos(r * .pi / 180), cos(d * .pi / 180) * sin(r * .pi / 180), sin(d * .pi / 180)]
            }
            let dot = zip(unit(ra, dec), unit(ra2, dec2)).map(*).reduce(0, +)
            #expect(abs(SkyPosition.separation(ra1: ra, dec1: dec, ra2: ra2, dec2: dec2) - acos(min(1, max(-1, dot))) * 180 / .pi) < 1e-6)
        }
    }

    /// A candidate at frequency f and DM d (an unfolded detection).
    static func candidate(_ f: Double, dm: Double, dmUncertainty: Double? = nil) -> Candidate {
        var c = Candidate(periodS: 1 / f, frequencyHz: f, dm: dm, sigma: 10, harmonics: 4, accelMS2: 0)
        c.dmUncertainty = dmUncertainty
        return c
    }

    @Test("on random catalogues: harmonics and fractions n/m of pulsars in the beam match with the simplest ratio; too far in frequency, DM or sky does not")
    func matching() {
        var rng = SeededGenerator(seed: 29)
        let mjd = 60000.0, duration = 100.0, centre = (ra: 150.0, dec: -30.0)
        var checked = 0, outside = 0
        for trial in 0..<40 {
            let pulsars = (0..<30).map { i in
                KnownPulsar(name: "J\(trial)-\(i)", bName: nil, raDegrees: centre.ra + (rng.uniform() - 0.5) * 3,
                            decDegrees: centre.dec + (rng.uniform() - 0.5) * 3, frequency: 0.5 + rng.uniform() * 300,
                            frequencyDerivative: 0, frequencySecondDerivative: 0, epochMJD: mjd, dm: 5 + rng.uniform() * 500, orbitalDoppler: 0)
            }
            let matcher = KnownPulsarMatcher(catalogue: PulsarCatalogue(version: nil, pulsars: pulsars), radiusDeg: 0.5)
            let beam = matcher.catalogue.within(radius: 0.5, ofRA: centre.ra, dec: centre.dec)
            // within() against brute force.
            let inBeam = Set(pulsars.filter { SkyPosition.separation(ra1: centre.ra, dec1: centre.dec, ra2: $0.raDegrees, dec2: $0.decDegrees) <= 0.5 }.map(\.name))
            #expect(Set(beam.map(\.pulsar.name)) == inBeam)
            for p in pulsars {
                let (n, m) = [(1, 1), (2, 1), (3, 1), (1, 2), (3, 2), (5, 4)][Int(rng.uniform() * 6)]
                let f = p.frequency! * Double(n) / Double(m)
                let wobble = (rng.uniform() * 2 - 1) * 1.9 / duration  // within 2 bins
                // Through annotate, which applies the beam radius itself.
                var one = [Self.candidate(f + wobble, dm: p.dm! + (rng.uniform() - 0.5) * 2)]
                matcher.annotate(&one, raDegrees: centre.ra, decDegrees: centre.dec, mjd: mjd, duration: duration)
                let found = one[0].knownPulsar
                if inBeam.contains(p.name) {
                    // Another pulsar in the beam can match too, by chance, with a simpler ratio.
                    let rivals = beam.contains { other in
                        other.pulsar.name != p.name && (1...8).contains { mm in
                            let nn = Int((f / other.pulsar.frequency! * Double(mm)).rounded())
                            return nn >= 1 && nn <= 8 && nn + mm <= n + m && abs(f - Double(nn) / Double(mm) * other.pulsar.frequency!) < 2.1 / duration
                                && abs(p.dm! - other.pulsar.dm!) < 3 * max(0.05 * p.dm!, 0.5) + 1
                        }
                    }
                    if !rivals {
                        checked += 1
                        #expect(found?.name == p.name && found?.harmonic == n && found?.fraction == m, "\(p.name) at \(n)/\(m): \(String(describing: found))")
                    }
                } else {
                    outside += 1
                    #expect(found?.name != p.name, "\(p.name) is outside the beam")
                }
                if inBeam.contains(p.name) {
                    // 3 bins off, or the DM 4 tolerances off: not this pulsar.
                    let far = matcher.match(Self.candidate(f + 3 / duration, dm: p.dm!), beam: [(p, 0)], mjd: mjd, duration: duration)
                    let wrongDM = matcher.match(Self.candidate(f, dm: p.dm! + 4 * 3 * max(0.05 * p.dm!, 0.5)), beam: [(p, 0)], mjd: mjd, duration: duration)
                    #expect(far == nil && wrongDM == nil, "\(p.name): \(String(describing: far)) \(String(describing: wrongDM))")
                }
            }
        }
        // The checks above ran on enough pulsars to mean something.
        #expect(checked > 60 && outside > 600, "checked \(checked) in the beam, \(outside) outside")
    }

    @Test("the period is predicted at the observation's date from the spin-down; a binary's orbit widens the tolerance by its Doppler")
    func spinDownAndOrbit() {
        let epoch = 50000.0, mjd = 60000.0, duration = 600.0
        let dt = (mjd - epoch) * 86400
        // F2 large enough that leaving it out would miss (0.037 Hz against a tolerance of 0.019).
        let young = KnownPulsar(name: "J-young", bName: nil, raDegrees: 0, decDegrees: 0, frequency: 30, frequencyDerivative: -4e-10,
                                frequencySecondDerivative: 1e-19, epochMJD: epoch, dm: 50, orbitalDoppler: 0)
        let predicted = 30 - 4e-10 * dt + 0.5e-19 * dt * dt
        #expect(abs(young.frequency(atMJD: mjd)!.value - predicted) < 1e-12)
        let matcher = KnownPulsarMatcher(catalogue: PulsarCatalogue(version: nil, pulsars: [young]))
        #expect(matcher.match(Self.candidate(predicted, dm: 50), beam: [(young, 0)], mjd: mjd, duration: duration)?.name == "J-young")
        // At the catalogue's own frequency (0.3 Hz away, far beyond 5 % of the change): no match.
        #expect(matcher.match(Self.candidate(30, dm: 50), beam: [(young, 0)], mjd: mjd, duration: duration) == nil)
        // A binary with v/c = 1e-3: 0.8 of that away matches; the same offset on an isolated pulsar does not.
        let binary = KnownPulsar(name: "J-binary", bName: nil, raDegrees: 0, decDegrees: 0, frequency: 200, frequencyDerivative: 0,
                                 frequencySecondDerivative: 0, epochMJD: mjd, dm: 20, orbitalDoppler: 1e-3)
        var isolated = binary
        isolated.orbitalDoppler = 0
        let shifted = Self.candidate(200 * (1 + 0.8e-3), dm: 20)
        #expect(matcher.match(shifted, beam: [(binary, 0)], mjd: mjd, duration: duration)?.name == "J-binary")
        #expect(matcher.match(shifted, beam: [(isolated, 0)], mjd: mjd, duration: duration) == nil)
    }

    @Test("of several matches the simplest ratio wins, then the closest frequency, whatever the order of the beam; ratios up to 8 either way")
    func ranking() {
        func psr(_ n: String, _ f: Double) -> KnownPulsar {
            KnownPulsar(name: n, bName: nil, raDegrees: 0, decDegrees: 0, frequency: f, frequencyDerivative: 0, frequencySecondDerivative: 0,
                        epochMJD: 60000, dm: 50, orbitalDoppler: 0)
        }
        let a = psr("A", 10), b = psr("B", 20.012), c = psr("C", 20.004)
        let m = KnownPulsarMatcher(catalogue: PulsarCatalogue(version: nil, pulsars: [a, b, c]))
        func best(_ f: Double, _ beam: [(pulsar: KnownPulsar, separation: Double)]) -> KnownPulsarMatch? {
            m.match(Self.candidate(f, dm: 50), beam: beam, mjd: 60000, duration: 100)
        }
        // 1/1 of B (0.012 Hz off) beats 2/1 of A (exact).
        #expect(best(20, [(a, 0), (b, 0)])?.name == "B" && best(20, [(b, 0), (a, 0)])?.name == "B")
        #expect(best(20, [(a, 0)])?.ratio == "2/1")
        // Equal ratios: the closer frequency.
        #expect(best(20, [(b, 0), (c, 0)])?.name == "C" && best(20, [(c, 0), (b, 0)])?.name == "C")
        #expect(best(80, [(a, 0)])?.ratio == "8/1" && best(90, [(a, 0)]) == nil && best(8.75, [(a, 0)])?.ratio == "7/8")
    }

    @Test("xunxing search --catalogue: a simulated Crab at the Crab's position and date is marked J0534+2200 (1/1), a pulsar of another period is not; xunxing known lists the Crab")
    func searchMarksTheCrab() throws {
        let dir = try FormatsFixtures.temporaryDirectory()
        defer { FormatsFixtures.remove(dir) }
        let cat = try PulsarCatalogue.read(from: Self.catalogue)
        let crab = try #require(cat.pulsars.first { $0.name == "J0534+2200" })
        let period = 1 / crab.frequency(atMJD: 60000)!.value
        let file = dir.appendingPathComponent("crab.fil").path
        let sim = try CommandLine.run(["simulate", file, "--period", "\(period)", "--period", "0.0123", "--dm", "56.77", "--snr", "30",
                                       "--samples", "131072", "--ra", "05:34:31.97", "--dec", "+22:00:52.1", "--mjd", "60000"])
        #expect(sim.status == 0, "\(sim.stderr)")
        let search = try CommandLine.run(["search", file, "--dm-max", "100", "--format", "json", "--quiet", "--catalogue", Self.catalogue])
        #expect(search.status == 0, "\(search.stderr)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(search.stdout.utf8)) as? [String: Any])
        let candidates = try #require(document["candidates"] as? [[String: Any]])
        func near(_ p: Double) -> [String: Any]? {
            candidates.first { abs(($0["period_s"] as? Double ?? 0) - p) / p < 1e-3 }
        }
        let found = try #require(near(period), "the Crab-like pulsar is found")
        let known = try #require(found["known_pulsar"] as? [String: Any])
        #expect(known["name"] as? String == "J0534+2200" && known["harmonic"] as? Int == 1 && known["fraction"] as? Int == 1, "\(known)")
        let other = try #require(near(0.0123), "the second pulsar is found")
        #expect(other["known_pulsar"] == nil, "\(other)")
        // Without the catalogue nothing is marked.
        let plain = try CommandLine.run(["search", file, "--dm-max", "100", "--format", "json", "--quiet"], environment: ["PSRCAT_FILE": ""])
        #expect(plain.status == 0 && !plain.stdout.contains("known_pulsar"))
        // The table names it too.
        let table = try CommandLine.run(["search", file, "--dm-max", "100", "--quiet", "--catalogue", Self.catalogue])
        #expect(table.stdout.contains("J0534+2200 (1/1)"), "\(table.stdout)")
        // xunxing known: the Crab is the nearest pulsar to its own position; bad positions are refused.
        let listed = try CommandLine.run(["known", "--ra", "83.633", "--dec", "22.0145", "--radius", "1", "--catalogue", Self.catalogue, "--format", "json"])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
        #expect(rows.first?["name"] as? String == "J0534+2200" && (rows.first?["separation_deg"] as? Double ?? 1) < 0.01, "\(rows.prefix(2))")
        let bad = try CommandLine.run(["known", "--ra", "25:00:00", "--dec", "0", "--catalogue", Self.catalogue])
        #expect(bad.status != 0 && bad.stderr.contains("--ra"), "\(bad.stderr)")
    }
}
