import Foundation

/// What an observation file says about where and when it was taken, whatever its format; carried
/// into search outputs so that a candidate can be traced to its observation.
public struct ObservationInfo: Sendable, Codable, Equatable {
    /// The file's format: `sigproc` or `psrfits`.
    public var format: String
    /// Telescope name (PSRFITS `TELESCOP`, or the SIGPROC telescope id's name when known).
    public var telescope: String?
    /// Source name.
    public var source: String
    /// MJD (UTC) of the first sample.
    public var mjd: Double
    /// Right ascension and declination of the pointing, degrees, when the file records them.
    public var raDegrees: Double?
    public var decDegrees: Double?

    public init(format: String, telescope: String?, source: String, mjd: Double, raDegrees: Double?, decDegrees: Double?) {
        self.format = format
        self.telescope = telescope
        self.source = source
        self.mjd = mjd
        self.raDegrees = raDegrees
        self.decDegrees = decDegrees
    }

    /// One line for people: telescope, source, MJD and position.
    public var summary: String {
        var parts = [telescope ?? "unknown telescope", source.isEmpty ? "unnamed source" : source, String(format: "MJD %.6f", mjd)]
        if let ra = raDegrees, let dec = decDegrees { parts.append(String(format: "RA %.4f° Dec %+.4f°", ra, dec)) }
        return parts.joined(separator: ", ")
    }
}

/// A filterbank observation opened for reading, SIGPROC or PSRFITS: spectra in time order (total
/// intensity, scaled and weighted), its header in SIGPROC terms, and where it was observed.
public protocol ObservationSource: SpectrumSource {
    /// The path as given.
    var path: String { get }
    /// The header in SIGPROC terms (for PSRFITS: translated from the primary and SUBINT headers).
    var header: FilterbankHeader { get }
    /// Telescope, source, epoch and position.
    var info: ObservationInfo { get }
}

/// Opens observation files by their content, not their name.
public enum ObservationFile {
    /// The formats recognised.
    public enum Format: String, Sendable {
        case sigproc, psrfits
    }

    /// The format of the file whose first bytes are `prefix`: FITS files begin with `SIMPLE  =`.
    public static func format(ofPrefix prefix: some Collection<UInt8>) -> Format {
        Array(prefix.prefix(9)) == Array("SIMPLE  =".utf8) ? .psrfits : .sigproc
    }

    /// The format of the file at `path` (SIGPROC unless it starts as a FITS file does).
    public static func format(of path: String) throws -> Format {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw FormatError.cannotOpen(file: path, reason: FileManager.default.fileExists(atPath: path) ? "not readable" : "no such file")
        }
        defer { try? handle.close() }
        return format(ofPrefix: (try? handle.read(upToCount: 9)) ?? Data())
    }

    /// Checks the header at the start of a file that may still be arriving (an upload): a SIGPROC
    /// header must decode, a FITS file must say it is PSRFITS in its primary header. The full check
    /// is ``open(_:)`` once the whole file is there.
    public static func checkHeader(_ path: String) throws {
        switch try format(of: path) {
        case .sigproc:
            _ = try SigprocHeader.decode(path: path)
        case .psrfits:
            let prefix = (try? FileHandle(forReadingFrom: URL(fileURLWithPath: path)).read(upToCount: 1 << 16)) ?? Data()
            let text = String(decoding: prefix, as: UTF8.self)
            let cards = stride(from: 0, to: text.utf8.count - 79, by: 80).lazy.map {
                String(text.utf8.dropFirst($0).prefix(80)) ?? ""
            }
            guard let card = cards.first(where: { $0.hasPrefix("FITSTYPE=") }) else {
                throw FormatError.missingField(file: path, field: "primary HDU, FITSTYPE")
            }
            guard card.uppercased().contains("'PSRFITS") else {
                throw FormatError.invalidValue(file: path, field: "primary HDU, FITSTYPE",
                                               value: "'" + card.dropFirst(10).prefix(20).trimmingCharacters(in: .whitespaces) + "'",
                                               reason: "not a PSRFITS file")
            }
        }
    }

    /// Opens a SIGPROC filterbank or a PSRFITS search-mode file.
    public static func open(_ path: String) throws -> any ObservationSource {
        switch try format(of: path) {
        case .psrfits: return try PSRFITSReader(path: path)
        case .sigproc: return try FilterbankReader(path: path)
        }
    }
}

extension FilterbankReader: ObservationSource {
    public var info: ObservationInfo {
        ObservationInfo(
            format: "sigproc", telescope: header.telescopeID.flatMap(SigprocTelescopes.name), source: header.sourceName,
            mjd: header.tstart, raDegrees: header.srcRaj.map { SexagesimalAngle.degrees(packed: $0, hours: true) },
            decDegrees: header.srcDej.map { SexagesimalAngle.degrees(packed: $0, hours: false) })
    }
}

/// SIGPROC's telescope identifiers (as in its `aliases.c`) for the telescopes it names.
enum SigprocTelescopes {
    static func name(_ id: Int) -> String? {
        [0: "Fake", 1: "Arecibo", 2: "Ooty", 3: "Nancay", 4: "Parkes", 5: "Jodrell", 6: "GBT", 7: "GMRT", 8: "Effelsberg",
         9: "ATA", 10: "SRT", 11: "LOFAR", 12: "VLA", 20: "CHIME", 21: "FAST", 64: "MeerKAT", 65: "KAT-7"][id]
    }
}

/// Angles in the two written forms observation files use.
public enum SexagesimalAngle {
    /// Degrees from SIGPROC's packed form: hhmmss.s (`hours`) or ddmmss.s, sign in front.
    public static func degrees(packed: Double, hours: Bool) -> Double {
        let sign: Double = packed < 0 ? -1 : 1
        let v = abs(packed)
        let whole = (v / 10_000).rounded(.towardZero)
        let minutes = ((v - whole * 10_000) / 100).rounded(.towardZero)
        let seconds = v - whole * 10_000 - minutes * 100
        return sign * (whole + minutes / 60 + seconds / 3600) * (hours ? 15 : 1)
    }

    /// Degrees from `hh:mm:ss.s` (`hours`) or `[-]dd:mm:ss.s`; nil when it is not of that form.
    public static func degrees(text: String, hours: Bool) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let negative = trimmed.hasPrefix("-")
        let parts = trimmed.drop { $0 == "-" || $0 == "+" }.split(separator: ":").map { Double($0) }
        guard (1...3).contains(parts.count), parts.allSatisfy({ $0 != nil && $0! >= 0 }) else { return nil }
        let values = parts.map { $0! } + [0, 0]
        guard values[1] < 60, values[2] < 60 else { return nil }
        let magnitude = (values[0] + values[1] / 60 + values[2] / 3600) * (hours ? 15 : 1)
        return negative ? -magnitude : magnitude
    }

    /// SIGPROC's packed form (hhmmss.s or ddmmss.s) of an angle in degrees.
    public static func packed(degrees: Double, hours: Bool) -> Double {
        let sign: Double = degrees < 0 ? -1 : 1
        var v = abs(degrees) / (hours ? 15 : 1)
        let whole = v.rounded(.towardZero)
        v = (v - whole) * 60
        let minutes = v.rounded(.towardZero)
        let seconds = (v - minutes) * 60
        return sign * (whole * 10_000 + minutes * 100 + seconds)
    }
}
