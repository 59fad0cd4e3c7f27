import Foundation

/// A catalogued pulsar: what known-pulsar matching needs from an ATNF catalogue record.
public struct KnownPulsar: Sendable, Equatable, Codable {
    /// J2000 name (`PSRJ`), and the B1950 name where there is one (`PSRB`).
    public var name: String
    public var bName: String?
    /// Position, J2000 degrees (from `RAJ`/`DECJ`, or converted from `ELONG`/`ELAT`).
    public var raDegrees: Double
    public var decDegrees: Double
    /// Spin frequency (Hz) and its first two derivatives (Hz/s, Hz/s^2) at `epochMJD`, from `F0`,
    /// `F1`, `F2` or from `P0`, `P1`. Nil for the few records with no period.
    public var frequency: Double?
    public var frequencyDerivative: Double
    public var frequencySecondDerivative: Double
    public var epochMJD: Double?
    /// Dispersion measure, pc cm^-3 (nil where the catalogue has none).
    public var dm: Double?
    /// The largest fractional Doppler shift of the spin frequency over the orbit (binary pulsars,
    /// from `PB`, `A1` and `ECC`), 0 for isolated pulsars.
    public var orbitalDoppler: Double

    /// The period, seconds, at the catalogue's epoch.
    public var period: Double? { frequency.map { 1 / $0 } }

    /// The spin frequency predicted at `mjd` from the catalogue's Taylor series, and how far off it
    /// may be: 5 % of the predicted change (glitches and timing noise) plus the Doppler of the
    /// orbit. Nil without a period.
    public func frequency(atMJD mjd: Double) -> (value: Double, tolerance: Double)? {
        guard let f0 = frequency else { return nil }
        let dt = (mjd - (epochMJD ?? mjd)) * 86400
        let change = frequencyDerivative * dt + 0.5 * frequencySecondDerivative * dt * dt
        let value = f0 + change
        return (value, 0.05 * abs(change) + orbitalDoppler * value)
    }
}

/// The ATNF pulsar catalogue in psrcat's text format: one `KEY value [uncertainty] [reference]`
/// line per parameter, records separated by lines starting with `@`, comments starting with `#`.
/// Cite Manchester et al. (2005, AJ 129, 1993) where its data are shown.
public struct PulsarCatalogue: Sendable {
    /// The catalogue's version (`#CATALOGUE 1.59`), if it states one.
    public var version: String?
    public var pulsars: [KnownPulsar]

    public init(version: String?, pulsars: [KnownPulsar]) {
        self.version = version
        self.pulsars = pulsars
    }

    /// Reads a `psrcat.db` file.
    public static func read(from path: String) throws -> PulsarCatalogue {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FormatError.cannotOpen(file: path, reason: FileManager.default.fileExists(atPath: path) ? "unreadable" : "no such file")
        }
        return try parse(String(decoding: data, as: UTF8.self), file: path)
    }

    /// Parses catalogue text; `file` names it in errors, which give the line, the key and the value.
    public static func parse(_ text: String, file: String) throws -> PulsarCatalogue {
        var version: String?
        var pulsars: [KnownPulsar] = []
        var record: [String: (value: String, line: Int)] = [:]
        var recordStart = 1
        func finish() throws {
            defer { record = [:] }
            guard !record.isEmpty else { return }
            pulsars.append(try pulsar(from: record, file: file, line: recordStart))
        }
        var lineNumber = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("#") {
                if line.hasPrefix("#CATALOGUE") { version = line.split(separator: " ").dropFirst().first.map(String.init) }
                continue
            }
            if line.hasPrefix("@") {
                try finish()
                recordStart = lineNumber + 1
                continue
            }
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let key = fields.first else { continue }
            guard fields.count >= 2 else {
                throw FormatError.invalidValue(file: "\(file):\(lineNumber)", field: String(key), value: "(none)", reason: "a parameter line needs a value")
            }
            if record.isEmpty { recordStart = lineNumber }
            // The first value of a repeated key (e.g. several flux densities) is kept.
            if record[String(key)] == nil { record[String(key)] = (String(fields[1]), lineNumber) }
        }
        try finish()
        return PulsarCatalogue(version: version, pulsars: pulsars)
    }

    private static func pulsar(from record: [String: (value: String, line: Int)], file: String, line: Int) throws -> KnownPulsar {
        func number(_ key: String) throws -> Double? {
            guard let entry = record[key] else { return nil }
            guard let v = Double(entry.value), v.isFinite else {
                throw FormatError.invalidValue(file: "\(file):\(entry.line)", field: key, value: entry.value, reason: "not a number")
            }
            return v
        }
        guard let name = record["PSRJ"]?.value ?? record["PSRB"]?.value else {
            throw FormatError.missingField(file: "\(file): record starting at line \(line)", field: "PSRJ")
        }
        let ra: Double, dec: Double
        if let r = record["RAJ"], let d = record["DECJ"] {
            guard let raDegrees = SexagesimalAngle.degrees(text: r.value, hours: true), (0..<360).contains(raDegrees) else {
                throw FormatError.invalidValue(file: "\(file):\(r.line)", field: "RAJ", value: r.value, reason: "not hh:mm:ss.s with hours 0 to 24")
            }
            guard let decDegrees = SexagesimalAngle.degrees(text: d.value, hours: false), abs(decDegrees) <= 90 else {
                throw FormatError.invalidValue(file: "\(file):\(d.line)", field: "DECJ", value: d.value, reason: "not [+-]dd:mm:ss.s within 90 degrees")
            }
            (ra, dec) = (raDegrees, decDegrees)
        } else if let lon = try number("ELONG"), let lat = try number("ELAT") {
            (ra, dec) = SkyPosition.equatorial(eclipticLongitude: lon, latitude: lat)
        } else {
            throw FormatError.missingField(file: "\(file): record \(name) at line \(line)", field: "RAJ/DECJ or ELONG/ELAT")
        }
        var f: Double?, fdot = 0.0, fddot = 0.0
        if let f0 = try number("F0") {
            guard f0 > 0 else { throw FormatError.invalidValue(file: "\(file):\(record["F0"]!.line)", field: "F0", value: record["F0"]!.value, reason: "must be > 0 Hz") }
            f = f0
            fdot = try number("F1") ?? 0
            fddot = try number("F2") ?? 0
        } else if let p0 = try number("P0") {
            guard p0 > 0 else { throw FormatError.invalidValue(file: "\(file):\(record["P0"]!.line)", field: "P0", value: record["P0"]!.value, reason: "must be > 0 s") }
            f = 1 / p0
            fdot = -(try number("P1") ?? 0) / (p0 * p0)
        }
        var doppler = 0.0
        if let pb = try number("PB"), let a1 = try number("A1"), pb > 0 {
            let e = min(max(try number("ECC") ?? 0, 0), 0.99)
            doppler = 2 * Double.pi * a1 / (pb * 86400) * (1 + e) / (1 - e * e).squareRoot()
        }
        return KnownPulsar(
            name: name, bName: record["PSRB"]?.value, raDegrees: ra, decDegrees: dec, frequency: f, frequencyDerivative: fdot,
            frequencySecondDerivative: fddot, epochMJD: try number("PEPOCH"), dm: try number("DM"), orbitalDoppler: doppler)
    }

    /// The pulsars within `radius` degrees of (ra, dec), nearest first, with their separations.
    public func within(radius: Double, ofRA ra: Double, dec: Double) -> [(pulsar: KnownPulsar, separation: Double)] {
        pulsars.compactMap { p -> (KnownPulsar, Double)? in
            let s = SkyPosition.separation(ra1: ra, dec1: dec, ra2: p.raDegrees, dec2: p.decDegrees)
            return s <= radius ? (p, s) : nil
        }.sorted { $0.1 < $1.1 }
    }
}

/// Angles on the sky, degrees.
public enum SkyPosition {
    /// The J2000 obliquity of the ecliptic (IAU 2006, 84381.406 arcseconds).
    static let obliquity = 84381.406 / 3600

    /// Equatorial J2000 (ra, dec) of an ecliptic (longitude, latitude), degrees.
    public static func equatorial(eclipticLongitude lon: Double, latitude lat: Double) -> (ra: Double, dec: Double) {
        let e = obliquity * .pi / 180, l = lon * .pi / 180, b = lat * .pi / 180
        let sinDec = sin(b) * cos(e) + cos(b) * sin(e) * sin(l)
        let y = sin(l) * cos(e) - tan(b) * sin(e), x = cos(l)
        var ra = atan2(y, x) * 180 / .pi
        if ra < 0 { ra += 360 }
        return (ra, asin(min(1, max(-1, sinDec))) * 180 / .pi)
    }

    /// Great-circle separation of two positions (haversine, exact at small angles), degrees.
    public static func separation(ra1: Double, dec1: Double, ra2: Double, dec2: Double) -> Double {
        let d2r = Double.pi / 180
        let dDec = (dec2 - dec1) * d2r, dRA = (ra2 - ra1) * d2r
        let h = pow(sin(dDec / 2), 2) + cos(dec1 * d2r) * cos(dec2 * d2r) * pow(sin(dRA / 2), 2)
        return 2 * asin(min(1, h.squareRoot())) / d2r
    }
}
