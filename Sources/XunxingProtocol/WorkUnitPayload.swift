import Foundation

/// The binary file a worker downloads: a small JSON header plus quantised dedispersed series.
///
/// Layout (all integers little-endian):
///
/// | bytes | content |
/// | --- | --- |
/// | 8 | magic `XXWUNIT1` |
/// | 4 | UInt32 length L of the header |
/// | L | header, UTF-8 JSON of a ``WorkUnitHeader`` (sorted keys) |
/// | rest | series after series, each `samplesPerSeries` UInt8 or UInt16 samples |
///
/// Sample `j` of series `i` is `stored * scales[i] + offsets[i]`; see ``SeriesQuantiser`` for how
/// the encoder chooses the scale and offset. Nothing here ever holds the whole file in memory.
public enum WorkUnitPayload {
    /// The 8 bytes every payload starts with.
    public static let magic: [UInt8] = Array("XXWUNIT1".utf8)
    /// The largest header accepted, bytes (a header for thousands of series is well under this).
    public static let maxHeaderLength = 16 << 20
    /// Samples quantised and written (or read and restored) per system call.
    static let chunkSamples = 1 << 18

    /// Writes a payload. The encoder fills `header.bits`, `header.scales` and `header.offsets`;
    /// every other field is written as given and must describe the data (`header.dms.count ==
    /// seriesCount`, every series `header.samplesPerSeries` long). `series(i)` is called twice per
    /// series, once to choose the scale and once to write, and the buffer need only live until the
    /// next call. The file appears at `path` only when complete (it is written beside it first and
    /// fsynced before the rename); fsync the directory (``DurableFiles/syncDirectory(_:)``) before
    /// recording it anywhere, once for all the payloads written there.
    public static func write(
        header: WorkUnitHeader, bits: Int, seriesCount: Int, series: (Int) -> UnsafeBufferPointer<Float>,
        to path: String
    ) throws {
        func checked(_ i: Int) throws -> UnsafeBufferPointer<Float> {
            let s = series(i)
            guard s.count == header.samplesPerSeries else {
                throw PayloadError.invalidArgument(
                    file: path, field: "series(\(i)).count", value: "\(s.count)",
                    expected: "samplesPerSeries = \(header.samplesPerSeries)")
            }
            return s
        }
        try write(
            header: header, bits: bits, seriesCount: seriesCount,
            fit: { i in SeriesQuantiser(fitting: try checked(i), bits: bits) },
            scan: { i, visit in _ = try visit(try checked(i)) }, to: path)
    }

    /// Writes a payload whose series are too long to hold, read piece by piece: `scan(i, visit)`
    /// must call `visit` on consecutive pieces of series `i`, in order, together
    /// `header.samplesPerSeries` samples, stopping early when `visit` returns false. It is called
    /// a few times per series (to fit the quantiser, then to write), and each piece need only live
    /// during its `visit`. Otherwise as ``write(header:bits:seriesCount:series:to:)``, and the
    /// bytes written are the same.
    public static func write(
        header: WorkUnitHeader, bits: Int, seriesCount: Int,
        scan: (Int, (UnsafeBufferPointer<Float>) throws -> Bool) throws -> Void, to path: String
    ) throws {
        try write(
            header: header, bits: bits, seriesCount: seriesCount,
            fit: { i in
                try SeriesQuantiser(bits: bits, scanning: { visit in try withoutActuallyEscaping(visit) { try scan(i, $0) } })
            },
            scan: scan, to: path)
    }

    /// The writer: `fit(i)` gives series `i`'s quantiser, `scan` hands its samples over to encode.
    private static func write(
        header: WorkUnitHeader, bits: Int, seriesCount: Int, fit: (Int) throws -> SeriesQuantiser,
        scan: (Int, (UnsafeBufferPointer<Float>) throws -> Bool) throws -> Void, to path: String
    ) throws {
        guard bits == 8 || bits == 16 else {
            throw PayloadError.invalidArgument(file: path, field: "bits", value: "\(bits)", expected: "8 or 16")
        }
        guard header.version == WorkUnitHeader.currentVersion else {
            throw PayloadError.unsupportedVersion(file: path, version: header.version, supported: WorkUnitHeader.currentVersion)
        }
        guard header.dms.count == seriesCount else {
            throw PayloadError.headerFieldInconsistent(
                file: path, field: "dms", value: "\(header.dms.count) entries",
                expected: "\(seriesCount), one per series written")
        }
        var header = header
        header.bits = bits
        let samplesPerSeries = header.samplesPerSeries
        var quantisers: [SeriesQuantiser] = []
        quantisers.reserveCapacity(seriesCount)
        for i in 0..<seriesCount { quantisers.append(try fit(i)) }
        header.scales = quantisers.map(\.scale)
        header.offsets = quantisers.map(\.offset)
        try header.validate(file: path)
        let json: Data
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            json = try encoder.encode(header)
        } catch {
            throw PayloadError.invalidArgument(file: path, field: "header", value: "\(error)", expected: "a header JSON can encode (finite numbers)")
        }

        let partial = path + ".partial"
        let file = try PayloadFile.create(partial, name: path)
        var finished = false
        defer { if !finished { try? file.close(); PayloadFile.remove(partial) } }
        var prefix = magic
        withUnsafeBytes(of: UInt32(json.count).littleEndian) { prefix += $0 }
        prefix += json
        try file.write(prefix)
        let bytesPerSample = bits / 8
        let chunk = UnsafeMutableRawBufferPointer.allocate(
            byteCount: chunkSamples * bytesPerSample, alignment: MemoryLayout<UInt16>.alignment)
        defer { chunk.deallocate() }
        for i in 0..<seriesCount {
            var seen = 0
            try scan(i) { piece in
                seen += piece.count
                guard seen <= samplesPerSeries else { return false }
                var start = 0
                while start < piece.count {
                    let end = min(piece.count, start + chunkSamples)
                    quantisers[i].encode(UnsafeBufferPointer(rebasing: piece[start..<end]), into: chunk)
                    try file.write(chunk.baseAddress!, count: (end - start) * bytesPerSample)
                    start = end
                }
                return true
            }
            guard seen == samplesPerSeries else {
                throw PayloadError.invalidArgument(
                    file: path, field: "series(\(i)).count", value: seen > samplesPerSeries ? "\(seen) or more" : "\(seen)",
                    expected: "samplesPerSeries = \(samplesPerSeries)")
            }
        }
        try file.sync()
        try file.close()
        try PayloadFile.rename(partial, to: path, name: path)
        finished = true
    }

    /// Reads a whole payload: the header and every series restored to Float, contiguous (series `i`
    /// at `i * samplesPerSeries`).
    public static func read(path: String) throws -> (header: WorkUnitHeader, samples: [Float]) {
        let file = try PayloadFile.openForReading(path, name: path)
        let header = try readHeader(file)
        let perSeries = header.samplesPerSeries
        let bytesPerSample = header.bits / 8
        let chunk = UnsafeMutableRawBufferPointer.allocate(
            byteCount: chunkSamples * bytesPerSample, alignment: MemoryLayout<UInt16>.alignment)
        defer { chunk.deallocate() }
        let total = header.seriesCount * perSeries
        let samples = try [Float](unsafeUninitializedCapacity: total) { buffer, initialised in
            for i in 0..<header.seriesCount {
                let q = SeriesQuantiser(bits: header.bits, scale: header.scales[i], offset: header.offsets[i])
                var start = 0
                while start < perSeries {
                    let count = min(perSeries - start, chunkSamples)
                    let got = try file.read(into: chunk.baseAddress!, count: count * bytesPerSample)
                    guard got == count * bytesPerSample else {
                        // The file shrank after its size was checked.
                        throw PayloadError.truncated(
                            file: path, expectedBytes: count * bytesPerSample, actualBytes: got)
                    }
                    let offset = i * perSeries + start
                    q.decode(UnsafeRawBufferPointer(chunk), into: UnsafeMutableBufferPointer(rebasing: buffer[offset..<(offset + count)]))
                    initialised = offset + count
                    start += count
                }
            }
            initialised = total
        }
        try file.close()
        return (header, samples)
    }

    /// Reads and checks only the header (and that the file is as long as the header promises).
    public static func readHeader(path: String) throws -> WorkUnitHeader {
        let file = try PayloadFile.openForReading(path, name: path)
        defer { try? file.close() }
        return try readHeader(file)
    }

    /// Reads magic, header length and header, validates the header and the file size, and leaves
    /// the file positioned at the first series.
    static func readHeader(_ file: PayloadFile) throws -> WorkUnitHeader {
        let path = file.name
        let size = try file.size()
        var prefix = [UInt8](repeating: 0, count: 12)
        let got = try prefix.withUnsafeMutableBytes { try file.read(into: $0.baseAddress!, count: 12) }
        let magicBytes = Array(prefix[0..<min(got, 8)])
        guard magicBytes == Array(magic.prefix(magicBytes.count)) else {
            throw PayloadError.badMagic(file: path, found: describe(magicBytes))
        }
        guard got == 12 else { throw PayloadError.truncated(file: path, expectedBytes: 12, actualBytes: got) }
        let length = Int(UInt32(prefix[8]) | UInt32(prefix[9]) << 8 | UInt32(prefix[10]) << 16 | UInt32(prefix[11]) << 24)
        guard length > 0, length <= maxHeaderLength else {
            throw PayloadError.headerLengthInvalid(file: path, length: length, fileSize: size)
        }
        guard 12 + length <= size else {
            throw PayloadError.truncated(file: path, expectedBytes: 12 + length, actualBytes: size)
        }
        var json = Data(count: length)
        let read = try json.withUnsafeMutableBytes { try file.read(into: $0.baseAddress!, count: length) }
        guard read == length else { throw PayloadError.truncated(file: path, expectedBytes: 12 + length, actualBytes: 12 + read) }

        let header = try decodeHeader(json, file: path)
        try header.validate(file: path)
        guard let data = header.dataByteCount else {
            throw PayloadError.headerFieldInconsistent(
                file: path, field: "samplesPerSeries", value: "\(header.samplesPerSeries)", expected: "a representable size")
        }
        let expected = 12 + length + data
        if size < expected { throw PayloadError.truncated(file: path, expectedBytes: expected, actualBytes: size) }
        if size > expected { throw PayloadError.trailingData(file: path, expectedBytes: expected, actualBytes: size) }
        return header
    }

    /// Decodes the header, checking the version before anything else so that a future format is
    /// reported as such rather than as a missing field.
    static func decodeHeader(_ json: Data, file: String) throws -> WorkUnitHeader {
        struct VersionProbe: Decodable { var version: Int }
        let decoder = JSONDecoder()
        do {
            let probe = try decoder.decode(VersionProbe.self, from: json)
            guard probe.version == WorkUnitHeader.currentVersion else {
                throw PayloadError.unsupportedVersion(file: file, version: probe.version, supported: WorkUnitHeader.currentVersion)
            }
            return try decoder.decode(WorkUnitHeader.self, from: json)
        } catch let error as DecodingError {
            let (field, reason) = describe(error)
            throw PayloadError.headerJSONInvalid(file: file, field: field, reason: reason)
        }
    }

    /// The coding path and a short explanation of a decoding error.
    static func describe(_ error: DecodingError) -> (field: String, reason: String) {
        func path(_ keys: [CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
                .trimmingCharacters(in: CharacterSet(charactersIn: "."))
        }
        switch error {
        case let .keyNotFound(key, context):
            return (path(context.codingPath + [key]), "required field is missing")
        case let .typeMismatch(type, context):
            return (path(context.codingPath), "expected a value of type \(type): \(context.debugDescription)")
        case let .valueNotFound(type, context):
            return (path(context.codingPath), "expected a value of type \(type), found null")
        case let .dataCorrupted(context):
            return (path(context.codingPath), context.debugDescription)
        @unknown default:
            return ("", "\(error)")
        }
    }

    /// Printable ASCII in quotes, anything else as hex.
    static func describe(_ bytes: [UInt8]) -> String {
        if !bytes.isEmpty, bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) {
            return "\"" + String(decoding: bytes, as: UTF8.self) + "\""
        }
        return "0x" + bytes.map { String(format: "%02x", $0) }.joined() + (bytes.isEmpty ? "(empty)" : "")
    }
}
