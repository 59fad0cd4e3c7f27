import ArgumentParser
import Foundation
import PulsarSearch

/// Where the ATNF catalogue is read from: `--catalogue`, else psrcat's own `PSRCAT_FILE`.
struct CatalogueArguments: ParsableArguments {
    @Option(help: "The ATNF pulsar catalogue (psrcat.db); default: $PSRCAT_FILE, as psrcat reads it.")
    var catalogue: String?

    @Option(help: "Beam radius, degrees: catalogued pulsars this close to the pointing are matched.")
    var beamRadius: Double = 0.5

    /// The catalogue file to use, if any.
    var path: String? { Self.resolve(catalogue) }

    /// `explicit`, else $PSRCAT_FILE when set.
    static func resolve(_ explicit: String?) -> String? {
        explicit ?? ProcessInfo.processInfo.environment["PSRCAT_FILE"].flatMap { $0.isEmpty ? nil : $0 }
    }

    func validate() throws {
        guard beamRadius > 0, beamRadius <= 180 else { throw ValidationError("--beam-radius \(beamRadius): must be between 0 and 180 degrees") }
    }

    /// A matcher on the catalogue, or nil when none is configured.
    func matcher() throws -> KnownPulsarMatcher? {
        guard let path else { return nil }
        return KnownPulsarMatcher(catalogue: try PulsarCatalogue.read(from: path), radiusDeg: beamRadius)
    }
}

struct KnownCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "known",
        abstract: "List the catalogued pulsars in a beam (ATNF catalogue), nearest first.",
        discussion: """
            Reads the ATNF pulsar catalogue in psrcat's format (--catalogue, or $PSRCAT_FILE) and \
            prints every pulsar within --radius degrees of the position: name, position, distance, \
            period and DM. With --mjd the period is predicted at that date from the catalogue's \
            spin-down. `xunxing search --catalogue` marks the candidates that are these pulsars or \
            their harmonics. Data: Manchester et al. (2005, AJ 129, 1993), \
            https://www.atnf.csiro.au/research/pulsar/psrcat.

            Positions are degrees or sexagesimal (RA hh:mm:ss.s, Dec [+-]dd:mm:ss.s).

            Examples:
              xunxing known --ra 05:34:31.97 --dec +22:00:52.1 --catalogue psrcat.db
              xunxing known --ra 83.63 --dec 22.01 --radius 2 --mjd 60000 --format json
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json }

    @Option(help: "Right ascension (J2000): degrees, or hh:mm:ss.s.") var ra: String
    @Option(help: "Declination (J2000): degrees, or [+-]dd:mm:ss.s.") var dec: String
    @Option(help: "Radius, degrees.") var radius: Double = 0.5
    @Option(help: "Predict periods at this MJD (default: the catalogue's epochs).") var mjd: Double?
    @Option(help: "The ATNF pulsar catalogue (psrcat.db); default: $PSRCAT_FILE.") var catalogue: String?
    @Option(help: "table or json.") var format: Format = .table

    /// A coordinate: sexagesimal when it has a colon (hours for RA), else degrees.
    static func angle(_ text: String, hours: Bool) -> Double? {
        if text.contains(":") { return SexagesimalAngle.degrees(text: text, hours: hours) }
        return Double(text)
    }

    func validate() throws {
        guard let r = Self.angle(ra, hours: true), (0..<360).contains(r) else { throw ValidationError("--ra '\(ra)': not degrees in 0-360 or hh:mm:ss.s") }
        guard let d = Self.angle(dec, hours: false), abs(d) <= 90 else { throw ValidationError("--dec '\(dec)': not degrees in -90-90 or dd:mm:ss.s") }
        guard radius > 0, radius <= 180 else { throw ValidationError("--radius \(radius): must be between 0 and 180 degrees") }
    }

    struct Row: Encodable {
        var name: String
        var bName: String?
        var raDeg: Double
        var decDeg: Double
        var separationDeg: Double
        var periodS: Double?
        var dm: Double?
        enum CodingKeys: String, CodingKey {
            case name, bName = "b_name", raDeg = "ra_deg", decDeg = "dec_deg", separationDeg = "separation_deg", periodS = "period_s", dm
        }
    }

    func run() throws {
        guard let path = CatalogueArguments.resolve(catalogue) else {
            throw ValidationError("no catalogue: give --catalogue psrcat.db or set PSRCAT_FILE")
        }
        let cat = try PulsarCatalogue.read(from: path)
        let rows = cat.within(radius: radius, ofRA: Self.angle(ra, hours: true)!, dec: Self.angle(dec, hours: false)!).map { p, s in
            Row(name: p.name, bName: p.bName, raDeg: p.raDegrees, decDeg: p.decDegrees, separationDeg: s,
                periodS: mjd.flatMap { p.frequency(atMJD: $0).map { 1 / $0.value } } ?? p.period, dm: p.dm)
        }
        switch format {
        case .json:
            try printJSON(rows)
        case .table:
            print("\(rows.count) pulsar(s) within \(radius)° (ATNF catalogue \(cat.version ?? "?"), \(cat.pulsars.count) pulsars)")
            guard !rows.isEmpty else { return }
            print("name           b_name        ra_deg    dec_deg   sep_deg     period_ms        dm")
            for r in rows {
                let period = r.periodS.map { String(format: "%.6f", $0 * 1000) } ?? "-", dm = r.dm.map { String(format: "%.3f", $0) } ?? "-"
                print(r.name.leftAligned(14) + " " + (r.bName ?? "-").leftAligned(11)
                      + String(format: " %9.4f %+9.4f %9.4f ", r.raDeg, r.decDeg, r.separationDeg) + period.rightAligned(13) + " " + dm.rightAligned(9))
            }
        }
    }
}

extension String {
    /// Padded with spaces to `width` characters (String(format:)'s `%-14@` does not pad on Linux).
    func leftAligned(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
    func rightAligned(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
