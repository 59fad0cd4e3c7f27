/// The SIGPROC binary header: `HEADER_START`, keyword/value pairs, `HEADER_END`.
///
/// Strings (keywords and string values) are a little-endian int32 length followed by the bytes;
/// integer values are int32, `npuls` is int64, real values are float64 and `signed` is one byte;
/// everything is little-endian. The data follow immediately after `HEADER_END`.
///
/// A `FREQUENCY_START` / `fchannel` ... / `FREQUENCY_END` channel table is accepted when its
/// channels are uniformly spaced (it then defines `fch1`, `foff` and, if absent, `nchans`);
/// non-uniform tables are rejected with ``FormatError/invalidValue(file:field:value:reason:)``.
/// `nbins` and `npuls` are read and ignored.
public enum SigprocHeader {
    /// How a keyword's value is coded.
    enum ValueKind {
        case string, int32, int64, float64, byte, marker
    }

    /// Every keyword the decoder understands and how its value is stored.
    static let keywordKinds: [String: ValueKind] = [
        "source_name": .string, "rawdatafile": .string,
        "telescope_id": .int32, "machine_id": .int32, "data_type": .int32, "barycentric": .int32,
        "pulsarcentric": .int32, "nbits": .int32, "nsamples": .int32, "nchans": .int32, "nifs": .int32,
        "nbeams": .int32, "ibeam": .int32, "nbins": .int32,
        "tstart": .float64, "tsamp": .float64, "fch1": .float64, "foff": .float64, "refdm": .float64,
        "az_start": .float64, "za_start": .float64, "src_raj": .float64, "src_dej": .float64,
        "period": .float64, "fchannel": .float64,
        "npuls": .int64, "signed": .byte,
        "FREQUENCY_START": .marker, "FREQUENCY_END": .marker,
    ]

    /// Longest keyword string accepted; anything longer means the header is corrupt.
    static let maximumKeywordLength = 80
    /// Longest string value accepted.
    static let maximumStringValueLength = 1 << 20

    /// Encodes `header` as a complete SIGPROC header, `HEADER_START` through `HEADER_END`.
    /// Optional keywords are written only when non-`nil`.
    public static func encode(_ header: FilterbankHeader) -> [UInt8] {
        encode(header, includeFrequency: true)
    }

    /// Encodes `header`; with `includeFrequency == false`, `fch1` and `foff` are left out (used for
    /// time series whose reference frequency is unknown).
    static func encode(_ header: FilterbankHeader, includeFrequency: Bool) -> [UInt8] {
        var out = HeaderBytes()
        out.marker("HEADER_START")
        if let v = header.telescopeID { out.int("telescope_id", v) }
        if let v = header.machineID { out.int("machine_id", v) }
        out.int("data_type", header.dataType)
        if let v = header.rawDataFile { out.string("rawdatafile", v) }
        out.string("source_name", header.sourceName)
        if let v = header.barycentric { out.int("barycentric", v) }
        if let v = header.pulsarcentric { out.int("pulsarcentric", v) }
        if let v = header.azStart { out.double("az_start", v) }
        if let v = header.zaStart { out.double("za_start", v) }
        if let v = header.srcRaj { out.double("src_raj", v) }
        if let v = header.srcDej { out.double("src_dej", v) }
        out.double("tstart", header.tstart)
        out.double("tsamp", header.tsamp)
        out.int("nbits", header.nbits)
        if let v = header.nsamples { out.int("nsamples", v) }
        if includeFrequency {
            out.double("fch1", header.fch1)
            out.double("foff", header.foff)
        }
        out.int("nchans", header.nchans)
        out.int("nifs", header.nifs)
        if let v = header.refdm { out.double("refdm", v) }
        if let v = header.period { out.double("period", v) }
        if let v = header.nbeams { out.int("nbeams", v) }
        if let v = header.ibeam { out.int("ibeam", v) }
        if let v = header.isSigned {
            out.keyword("signed")
            out.bytes.append(v ? 1 : 0)
        }
        out.marker("HEADER_END")
        return out.bytes
    }

    /// Decodes the header at the start of the file at `path`; returns it and its length in bytes
    /// (the offset of the first data byte).
    ///
    /// Validates: `nbits` in {1, 2, 4, 8, 16, 32}; `tsamp` finite and > 0; `nchans` >= 1; `nifs` >= 1;
    /// `foff` finite and != 0; `fch1` finite and > 0; `nchans × nifs × nbits` a whole number of bytes.
    /// Missing `nbits`, `nchans`, `tsamp`, `fch1` or `foff` is `missingField` (`foff` may be omitted
    /// when `nchans == 1`; it then defaults to 1). An empty file is `empty`; an unknown keyword is
    /// `unknownKeyword`; end of file inside the header is `truncatedHeader`.
    public static func decode(path: String) throws -> (header: FilterbankHeader, length: Int) {
        let file = try PosixFile.openForReading(path)
        let decoded = try decode(file: file, requireFrequency: true)
        return (decoded.header, decoded.length)
    }

    /// Decodes from an open file. With `requireFrequency == false` (time series) `fch1` and `foff`
    /// are optional and not validated; `hasFrequency` says whether `fch1` is a usable frequency.
    static func decode(
        file: PosixFile, requireFrequency: Bool
    ) throws -> (header: FilterbankHeader, length: Int, hasFrequency: Bool) {
        let path = file.path
        if try file.size() == 0 { throw FormatError.empty(file: path) }
        var cursor = HeaderCursor(file: file)

        let start = try cursor.keyword(field: "HEADER_START")
        guard start == "HEADER_START" else {
            throw FormatError.invalidValue(
                file: path, field: "HEADER_START", value: "'\(printable(start))'",
                reason: "a SIGPROC file must begin with HEADER_START")
        }

        var strings: [String: String] = [:]
        var ints: [String: Int] = [:]
        var doubles: [String: Double] = [:]
        var signedFlag: Bool?
        var channelTable: [Double] = []

        while true {
            let keyword = try cursor.keyword(field: "HEADER_END")
            if keyword == "HEADER_END" { break }
            guard let kind = keywordKinds[keyword] else {
                throw FormatError.unknownKeyword(file: path, keyword: printable(keyword))
            }
            switch kind {
            case .marker:
                continue
            case .string:
                strings[keyword] = try cursor.stringValue(field: keyword)
            case .int32:
                ints[keyword] = Int(try cursor.int32(field: keyword))
            case .int64:
                ints[keyword] = Int(try cursor.int64(field: keyword))
            case .float64:
                let value = try cursor.float64(field: keyword)
                if keyword == "fchannel" { channelTable.append(value) } else { doubles[keyword] = value }
            case .byte:
                signedFlag = try cursor.byte(field: keyword) != 0
            }
        }

        if !channelTable.isEmpty {
            try applyChannelTable(channelTable, file: path, doubles: &doubles, ints: &ints)
        }

        guard let nbits = ints["nbits"] else { throw FormatError.missingField(file: path, field: "nbits") }
        guard let nchans = ints["nchans"] else { throw FormatError.missingField(file: path, field: "nchans") }
        guard let tsamp = doubles["tsamp"] else { throw FormatError.missingField(file: path, field: "tsamp") }
        let fch1 = doubles["fch1"]
        if requireFrequency, fch1 == nil { throw FormatError.missingField(file: path, field: "fch1") }
        let foff = doubles["foff"]
        if foff == nil, nchans != 1, fch1 != nil || requireFrequency {
            throw FormatError.missingField(file: path, field: "foff")
        }

        var header = FilterbankHeader(
            sourceName: strings["source_name"] ?? "", fch1: fch1 ?? 0, foff: foff ?? 1, nchans: nchans,
            nbits: nbits, tsamp: tsamp, tstart: doubles["tstart"] ?? 0, nifs: ints["nifs"] ?? 1,
            dataType: ints["data_type"] ?? 1)
        header.rawDataFile = strings["rawdatafile"]
        header.telescopeID = ints["telescope_id"]
        header.machineID = ints["machine_id"]
        header.refdm = doubles["refdm"]
        header.isSigned = signedFlag
        header.srcRaj = doubles["src_raj"]
        header.srcDej = doubles["src_dej"]
        header.azStart = doubles["az_start"]
        header.zaStart = doubles["za_start"]
        header.barycentric = ints["barycentric"]
        header.pulsarcentric = ints["pulsarcentric"]
        header.nbeams = ints["nbeams"]
        header.ibeam = ints["ibeam"]
        header.nsamples = ints["nsamples"]
        header.period = doubles["period"]

        try header.validate(file: path, requireFrequency: requireFrequency)
        let hasFrequency = fch1.map { $0.isFinite && $0 > 0 } ?? false
        return (header, cursor.offset, hasFrequency)
    }

    /// Turns a uniformly spaced `fchannel` table into `fch1`, `foff` (and `nchans` if absent).
    private static func applyChannelTable(
        _ table: [Double], file: String, doubles: inout [String: Double], ints: inout [String: Int]
    ) throws {
        if let nchans = ints["nchans"], nchans != table.count {
            throw FormatError.invalidValue(
                file: file, field: "fchannel", value: "\(table.count) entries",
                reason: "the channel table must list nchans = \(nchans) frequencies")
        }
        ints["nchans"] = table.count
        let first = table[0]
        let step = table.count > 1 ? table[1] - table[0] : (doubles["foff"] ?? 1)
        let tolerance = 1e-9 * Swift.max(abs(first), 1) + 1e-6 * abs(step)
        for (i, f) in table.enumerated() where abs(f - (first + Double(i) * step)) > tolerance {
            throw FormatError.invalidValue(
                file: file, field: "fchannel", value: "\(f) (channel \(i))",
                reason: "non-uniform channel tables are not supported")
        }
        doubles["fch1"] = first
        doubles["foff"] = step
    }

    /// Keyword text made safe for an error message (control bytes shown as '?').
    private static func printable(_ text: String) -> String {
        String(text.unicodeScalars.map { $0.value >= 32 && $0.value < 127 ? Character($0) : "?" })
    }
}

/// Appends SIGPROC-coded keywords and values.
private struct HeaderBytes {
    var bytes: [UInt8] = []

    mutating func rawInt32(_ v: Int32) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func keyword(_ text: String) {
        let utf8 = Array(text.utf8)
        rawInt32(Int32(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    mutating func marker(_ text: String) { keyword(text) }

    mutating func string(_ key: String, _ value: String) {
        keyword(key)
        keyword(value)
    }

    mutating func int(_ key: String, _ value: Int) {
        keyword(key)
        rawInt32(Int32(clamping: value))
    }

    mutating func double(_ key: String, _ value: Double) {
        keyword(key)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }
}

/// Reads SIGPROC-coded values from the start of a file, fetching more bytes on demand.
private struct HeaderCursor {
    let file: PosixFile
    /// Bytes read so far; `bytes[i]` is file byte `i`.
    var bytes: [UInt8] = []
    /// File offset of the next unread byte.
    var offset = 0
    var reachedEnd = false

    init(file: PosixFile) { self.file = file }

    /// Makes sure `count` unread bytes are buffered, else throws `truncatedHeader(field)`.
    mutating func require(_ count: Int, field: String) throws {
        while bytes.count - offset < count {
            if reachedEnd { throw FormatError.truncatedHeader(file: file.path, field: field) }
            let chunk = Swift.max(4096, count - (bytes.count - offset))
            let start = bytes.count
            bytes.append(contentsOf: repeatElement(0, count: chunk))
            let got = try bytes.withUnsafeMutableBytes { raw in
                try file.read(into: raw.baseAddress! + start, count: chunk, offset: start)
            }
            if got < chunk {
                reachedEnd = true
                bytes.removeLast(chunk - got)
            }
        }
    }

    mutating func loadBits<T: FixedWidthInteger>(_: T.Type, field: String) throws -> T {
        let size = MemoryLayout<T>.size
        try require(size, field: field)
        var value: T = 0
        for i in 0..<size { value |= T(truncatingIfNeeded: bytes[offset + i]) << (8 * i) }
        offset += size
        return value
    }

    mutating func int32(field: String) throws -> Int32 { try loadBits(Int32.self, field: field) }
    mutating func int64(field: String) throws -> Int64 { try loadBits(Int64.self, field: field) }
    mutating func byte(field: String) throws -> UInt8 { try loadBits(UInt8.self, field: field) }

    mutating func float64(field: String) throws -> Double {
        Double(bitPattern: try loadBits(UInt64.self, field: field))
    }

    /// Reads `length` bytes as text.
    mutating func text(length: Int, field: String) throws -> String {
        try require(length, field: field)
        let s = String(decoding: bytes[offset..<(offset + length)], as: UTF8.self)
        offset += length
        return s
    }

    /// Reads a keyword; an implausible length (< 1 or > 80) means a corrupt or truncated header.
    mutating func keyword(field: String) throws -> String {
        let length = Int(try int32(field: field))
        guard length >= 1, length <= SigprocHeader.maximumKeywordLength else {
            throw FormatError.truncatedHeader(file: file.path, field: field)
        }
        return try text(length: length, field: field)
    }

    /// Reads a string value belonging to keyword `field`.
    mutating func stringValue(field: String) throws -> String {
        let length = Int(try int32(field: field))
        guard length >= 0, length <= SigprocHeader.maximumStringValueLength else {
            throw FormatError.invalidValue(
                file: file.path, field: field, value: "string length \(length)",
                reason: "not a plausible string length (corrupt header)")
        }
        return try text(length: length, field: field)
    }
}
