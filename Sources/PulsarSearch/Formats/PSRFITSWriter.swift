import Foundation

/// Writes a PSRFITS search-mode file through CFITSIO: a primary HDU with the observation's
/// keywords and a SUBINT table of rows of `samplesPerRow` samples, 1, 2, 4 or 8 bits packed first
/// sample in the high-order bits, with DAT_FREQ, DAT_WTS, DAT_OFFS and DAT_SCL per row. For the
/// simulator's PSRFITS output and for tests of the reader. Not thread-safe.
public final class PSRFITSWriter {
    public let path: String
    public let frequencies: [Double]
    public let bitsPerSample: Int
    public let samplesPerRow: Int
    /// `AA+BB` (one product), `AABB`, `AABBCRCI` or `IQUV`.
    public let polType: String
    public let polarisations: Int
    private let file: FITSFile
    private var rows = 0

    /// Creates `path` with the observation's keywords; rows follow with ``appendRow(samples:scale:offset:weight:)``.
    public init(path: String, info: ObservationInfo, frequencies: [Double], sampleTime: Double, bitsPerSample: Int,
                samplesPerRow: Int, polType: String = "AA+BB") throws {
        guard [1, 2, 4, 8].contains(bitsPerSample) else {
            throw FormatError.invalidValue(file: path, field: "NBITS", value: "\(bitsPerSample)", reason: "PSRFITS search data have 1, 2, 4 or 8 bits")
        }
        let npol: Int
        switch polType {
        case "AA+BB", "INTEN": npol = 1
        case "AABB": npol = 2
        case "AABBCRCI", "IQUV": npol = 4
        default: throw FormatError.invalidValue(file: path, field: "POL_TYPE", value: polType, reason: "not a polarisation type this writer knows")
        }
        guard !frequencies.isEmpty, samplesPerRow >= 1, (samplesPerRow * npol * frequencies.count * bitsPerSample) % 8 == 0 else {
            throw FormatError.invalidValue(file: path, field: "NSBLK", value: "\(samplesPerRow)", reason: "a row must hold whole bytes")
        }
        self.path = path
        self.frequencies = frequencies
        self.bitsPerSample = bitsPerSample
        self.samplesPerRow = samplesPerRow
        self.polType = polType
        self.polarisations = npol
        file = try FITSFile.create(path)
        let nch = frequencies.count
        let bandwidth = (frequencies.last! - frequencies.first!) * Double(nch) / Double(max(1, nch - 1))
        let imjd = info.mjd.rounded(.down)
        let seconds = (info.mjd - imjd) * 86_400
        try file.write("FITSTYPE", "PSRFITS")
        try file.write("HDRVER", "6.1")
        try file.write("OBS_MODE", "SEARCH")
        try file.write("TELESCOP", info.telescope ?? "Fake")
        try file.write("SRC_NAME", info.source)
        try file.write("OBSFREQ", 0.5 * (frequencies.first! + frequencies.last!))
        try file.write("OBSBW", bandwidth)
        try file.write("OBSNCHAN", nch)
        try file.write("STT_IMJD", Int(imjd))
        try file.write("STT_SMJD", Int(seconds.rounded(.down)))
        try file.write("STT_OFFS", seconds - seconds.rounded(.down))
        if let ra = info.raDegrees { try file.write("RA", Self.sexagesimal(ra / 15)) }
        if let dec = info.decDegrees { try file.write("DEC", Self.sexagesimal(dec)) }
        let bytes = samplesPerRow * npol * nch * bitsPerSample / 8
        try file.createTable("SUBINT", columns: [
            ("TSUBINT", "1D"), ("OFFS_SUB", "1D"), ("DAT_FREQ", "\(nch)D"), ("DAT_WTS", "\(nch)E"),
            ("DAT_OFFS", "\(nch * npol)E"), ("DAT_SCL", "\(nch * npol)E"), ("DATA", "\(bytes)B"),
        ])
        try file.write("NBITS", bitsPerSample)
        try file.write("NCHAN", nch)
        try file.write("NPOL", npol)
        try file.write("POL_TYPE", polType)
        try file.write("NSBLK", samplesPerRow)
        try file.write("TBIN", sampleTime)
        try file.write("CHAN_BW", nch > 1 ? (frequencies[1] - frequencies[0]) : bandwidth)
        try file.write("NSUBOFFS", 0)
        try file.write("ZERO_OFF", 0.0)
        self.sampleTime = sampleTime
    }

    private let sampleTime: Double

    /// `hh:mm:ss.ssss` or `[-]dd:mm:ss.ssss` of a value in hours or degrees.
    static func sexagesimal(_ value: Double) -> String {
        let sign = value < 0 ? "-" : ""
        // In units of 1e-4 s of arc or time, rounded once, so that 59.99996 s carries into the minute.
        let ticks = Int((abs(value) * 3600 * 10_000).rounded())
        let whole = ticks / (3600 * 10_000), minutes = ticks / (60 * 10_000) % 60, rest = ticks % (60 * 10_000)
        return sign + String(format: "%02d:%02d:%02d.%04d", whole, minutes, rest / 10_000, rest % 10_000)
    }

    /// Appends one row. `samples[(s * polarisations + p) * nchan + c]` are unpacked values below
    /// 2^NBITS; `scale` and `offset` hold NCHAN × NPOL values (product-major), `weight` NCHAN.
    public func appendRow(samples: [UInt8], scale: [Float], offset: [Float], weight: [Float]) throws {
        let nch = frequencies.count
        precondition(samples.count == samplesPerRow * polarisations * nch && scale.count == nch * polarisations
                     && offset.count == nch * polarisations && weight.count == nch)
        let perByte = 8 / bitsPerSample
        var packed = [UInt8](repeating: 0, count: samples.count / perByte)
        if bitsPerSample == 8 {
            packed = samples
        } else {
            let mask = UInt8((1 << bitsPerSample) - 1)
            for (i, v) in samples.enumerated() {
                let shift = 8 - bitsPerSample * (i % perByte + 1)
                packed[i / perByte] |= (v & mask) << UInt8(shift)
            }
        }
        rows += 1
        let span = Double(samplesPerRow) * sampleTime
        try file.writeDoubles(column: 1, row: rows, [span])
        try file.writeDoubles(column: 2, row: rows, [(Double(rows) - 0.5) * span])
        try file.writeDoubles(column: 3, row: rows, frequencies)
        try file.writeFloats(column: 4, row: rows, weight)
        try file.writeFloats(column: 5, row: rows, offset)
        try file.writeFloats(column: 6, row: rows, scale)
        try file.writeBytes(column: 7, row: rows, packed)
    }

    /// Flushes and closes the file.
    public func close() throws { try file.finish() }
}
