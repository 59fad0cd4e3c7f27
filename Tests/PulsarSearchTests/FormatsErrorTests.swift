import Foundation
import PulsarSearch
import Testing

/// Every malformed input gives the exact FormatError, and its description names the file, the field
/// and the value.
@Suite("Formats: errors")
struct FormatsErrorTests {
    typealias Builder = FormatsFixtures.HeaderBuilder

    /// Writes `bytes` to a temporary `name`, opens it with `FilterbankReader`, and returns the error.
    static func readerError(_ bytes: [UInt8], name: String = "bad.fil") throws -> (FormatError?, String) {
        let dir = try FormatsFixtures.temporaryDirectory()
        defer { FormatsFixtures.remove(dir) }
        let url = dir.appendingPathComponent(name)
        try FormatsFixtures.write(bytes, to: url)
        return (FormatsFixtures.formatError { _ = try FilterbankReader(path: url.path) }, url.path)
    }

    /// Checks that the description mentions every fragment.
    static func expectDescription(_ error: FormatError?, mentions fragments: [String]) {
        let text = error?.description ?? ""
        for fragment in fragments {
            #expect(text.contains(fragment), "'\(text)' should mention '\(fragment)'")
        }
    }

    @Test("truncated header inside a value")
    func truncatedValue() throws {
        let bytes = Builder.standard(extra: { h in
            h.string("refdm")
            h.bytes += [0, 0, 0]
        }, end: false)
        let (error, path) = try Self.readerError(bytes, name: "cut.fil")
        #expect(error == .truncatedHeader(file: path, field: "refdm"))
        Self.expectDescription(error, mentions: ["cut.fil", "'refdm'"])
    }

    @Test("truncated header: no HEADER_END, and a garbage keyword length")
    func truncatedKeyword() throws {
        let (error, path) = try Self.readerError(Builder.standard(end: false), name: "noend.fil")
        #expect(error == .truncatedHeader(file: path, field: "HEADER_END"))
        Self.expectDescription(error, mentions: ["noend.fil", "HEADER_END"])

        let (error2, path2) = try Self.readerError([0xff, 0xff, 0xff, 0x7f, 1, 2, 3, 4], name: "garbage.fil")
        #expect(error2 == .truncatedHeader(file: path2, field: "HEADER_START"))
        Self.expectDescription(error2, mentions: ["garbage.fil", "HEADER_START"])
    }

    @Test("unknown keyword")
    func unknownKeyword() throws {
        let (error, path) = try Self.readerError(Builder.standard(extra: { $0.int("frobnicate", 3) }), name: "unk.fil")
        #expect(error == .unknownKeyword(file: path, keyword: "frobnicate"))
        Self.expectDescription(error, mentions: ["unk.fil", "'frobnicate'"])
    }

    @Test("nbits 3")
    func nbitsThree() throws {
        let (error, path) = try Self.readerError(Builder.standard(nbits: 3) + [1, 2, 3], name: "nbits3.fil")
        #expect(
            error == .invalidValue(file: path, field: "nbits", value: "3", reason: "only 1, 2, 4, 8, 16 and 32 bits are supported"))
        Self.expectDescription(error, mentions: ["nbits3.fil", "'nbits'", "value 3"])
        #expect(error?.description.hasSuffix("nbits3.fil: field 'nbits' has value 3: only 1, 2, 4, 8, 16 and 32 bits are supported") == true)
    }

    @Test("data not a whole number of spectra")
    func partialSpectrum() throws {
        let (error, path) = try Self.readerError(Builder.standard(nbits: 8, nchans: 4) + [UInt8](repeating: 7, count: 10), name: "part.fil")
        #expect(
            error == .partialSample(file: path, field: "data", value: "10 bytes", reason: "not a whole number of 4-byte spectra"))
        Self.expectDescription(error, mentions: ["part.fil", "'data'", "10 bytes"])
    }

    @Test("NaN and zero tsamp", arguments: [(Double.nan, "nan"), (0.0, "0.0"), (-1e-3, "-0.001")])
    func badTsamp(tsamp: Double, text: String) throws {
        let (error, path) = try Self.readerError(Builder.standard(tsamp: tsamp) + [1, 2, 3, 4], name: "tsamp.fil")
        guard case let .invalidValue(file, field, value, _) = error else {
            Issue.record("expected invalidValue, got \(String(describing: error))")
            return
        }
        #expect(file == path && field == "tsamp" && value == text)
        Self.expectDescription(error, mentions: ["tsamp.fil", "'tsamp'", text])
    }

    @Test("other invalid header values: nchans 0, foff 0, missing nbits")
    func otherHeaderValues() throws {
        let (e1, p1) = try Self.readerError(Builder.standard(nchans: 0), name: "nchans.fil")
        #expect(e1 == .invalidValue(file: p1, field: "nchans", value: "0", reason: "the number of channels must be at least 1"))
        Self.expectDescription(e1, mentions: ["nchans.fil", "'nchans'", "0"])

        let (e2, p2) = try Self.readerError(Builder.standard(extra: { $0.double("foff", 0) }), name: "foff.fil")
        guard case let .invalidValue(file, field, value, _) = e2 else {
            Issue.record("expected invalidValue, got \(String(describing: e2))")
            return
        }
        #expect(file == p2 && field == "foff" && value == "0.0")

        var h = Builder()
        h.string("HEADER_START")
        h.double("fch1", 1400)
        h.double("foff", -1)
        h.int("nchans", 4)
        h.double("tsamp", 1e-3)
        h.string("HEADER_END")
        let (e3, p3) = try Self.readerError(h.bytes + [1, 2, 3, 4], name: "nonbits.fil")
        #expect(e3 == .missingField(file: p3, field: "nbits"))
        Self.expectDescription(e3, mentions: ["nonbits.fil", "'nbits'"])
    }

    @Test("non-uniform channel table is rejected; a uniform one is accepted")
    func channelTable() throws {
        func table(_ freqs: [Double]) -> [UInt8] {
            var h = Builder()
            h.string("HEADER_START")
            h.int("nbits", 8)
            h.double("tsamp", 1e-3)
            h.string("FREQUENCY_START")
            for f in freqs { h.double("fchannel", f) }
            h.string("FREQUENCY_END")
            h.string("HEADER_END")
            return h.bytes + [UInt8](repeating: 1, count: freqs.count)
        }
        let (error, path) = try Self.readerError(table([1400, 1399, 1397]), name: "table.fil")
        #expect(
            error == .invalidValue(
                file: path, field: "fchannel", value: "1397.0 (channel 2)", reason: "non-uniform channel tables are not supported"))

        let dir = try FormatsFixtures.temporaryDirectory()
        defer { FormatsFixtures.remove(dir) }
        let url = dir.appendingPathComponent("uniform.fil")
        try FormatsFixtures.write(table([1400, 1399.5, 1399]), to: url)
        let header = try FilterbankReader(path: url.path).header
        #expect(header.nchans == 3 && header.fch1 == 1400 && header.foff == -0.5)
    }

    @Test("empty file and header-only file")
    func emptyFiles() throws {
        let (e1, p1) = try Self.readerError([], name: "zero.fil")
        #expect(e1 == .empty(file: p1))
        Self.expectDescription(e1, mentions: ["zero.fil"])

        let (e2, p2) = try Self.readerError(Builder.standard(), name: "headeronly.fil")
        #expect(e2 == .empty(file: p2))
        Self.expectDescription(e2, mentions: ["headeronly.fil"])
    }

    @Test("missing file and bad extension")
    func missingFile() throws {
        let dir = try FormatsFixtures.temporaryDirectory()
        defer { FormatsFixtures.remove(dir) }
        let path = dir.appendingPathComponent("absent.fil").path
        let error = FormatsFixtures.formatError { _ = try FilterbankReader(path: path) }
        guard case let .cannotOpen(file, _) = error else {
            Issue.record("expected cannotOpen, got \(String(describing: error))")
            return
        }
        #expect(file == path)
        Self.expectDescription(error, mentions: ["absent.fil"])

        let ext = FormatsFixtures.formatError { _ = try TimeSeriesFile.read(path: dir.appendingPathComponent("x.csv").path) }
        guard case let .invalidValue(_, field, value, _) = ext else {
            Issue.record("expected invalidValue, got \(String(describing: ext))")
            return
        }
        #expect(field == "extension" && value == "'.csv'")
        Self.expectDescription(ext, mentions: ["x.csv", "'extension'", ".csv"])
    }

    // MARK: PRESTO

    /// Writes a valid series with `count` samples, then lets `damage` alter the files.
    static func prestoFiles(count: Int = 100, damage: (URL) throws -> Void) throws -> (FormatError?, URL, URL) {
        let dir = try FormatsFixtures.temporaryDirectory()
        let base = dir.appendingPathComponent("ser")
        try TimeSeriesFile.writePresto(
            TimeSeries(samples: (0..<count).map(Float.init), tsamp: 1e-3, dm: 10), basePath: base.path)
        try damage(base)
        let error = FormatsFixtures.formatError { _ = try TimeSeriesFile.read(path: base.path + ".dat") }
        return (error, base.appendingPathExtension("inf"), dir)
    }

    @Test(".inf with a bad bin width", arguments: ["-0.1", "0", "nan", "abc"])
    func badWidth(width: String) throws {
        let (error, inf, dir) = try Self.prestoFiles { base in
            let url = base.appendingPathExtension("inf")
            var text = try String(contentsOf: url, encoding: .utf8)
            text = text.replacingOccurrences(of: "=  0.001\n", with: "=  \(width)\n")
            try Data(text.utf8).write(to: url)
        }
        defer { FormatsFixtures.remove(dir) }
        #expect(
            error == .invalidValue(
                file: inf.path, field: "Width of each time series bin (sec)", value: "'\(width)'",
                reason: "the bin width must be a finite number of seconds > 0"))
        Self.expectDescription(error, mentions: ["ser.inf", "Width of each time series bin", width])
    }

    @Test(".dat shorter than the .inf says")
    func shortDat() throws {
        let (error, inf, dir) = try Self.prestoFiles { base in
            let url = base.appendingPathExtension("dat")
            try Data(try Data(contentsOf: url).prefix(4 * 60)).write(to: url)
        }
        defer { FormatsFixtures.remove(dir) }
        let dat = inf.deletingPathExtension().appendingPathExtension("dat").path
        #expect(
            error == .partialSample(
                file: dat, field: "data", value: "240 bytes",
                reason: "holds 60 float32 samples but ser.inf says 'Number of bins in the time series' = 100"))
        Self.expectDescription(error, mentions: ["ser.dat", "'data'", "240 bytes", "100"])
    }

    @Test(".dat not a whole number of floats, empty .dat, N = 0")
    func badDatSizes() throws {
        let (e1, inf1, d1) = try Self.prestoFiles { base in
            try Data(repeating: 0, count: 401).write(to: base.appendingPathExtension("dat"))
        }
        defer { FormatsFixtures.remove(d1) }
        let dat1 = inf1.deletingPathExtension().appendingPathExtension("dat").path
        #expect(e1 == .partialSample(file: dat1, field: "data", value: "401 bytes", reason: "not a whole number of 4-byte float samples"))

        let (e2, inf2, d2) = try Self.prestoFiles { base in
            try Data().write(to: base.appendingPathExtension("dat"))
        }
        defer { FormatsFixtures.remove(d2) }
        #expect(e2 == .empty(file: inf2.deletingPathExtension().appendingPathExtension("dat").path))

        let (e3, inf3, d3) = try Self.prestoFiles { base in
            let url = base.appendingPathExtension("inf")
            let text = try String(contentsOf: url, encoding: .utf8)
                .replacingOccurrences(of: "=  100\n", with: "=  0\n")
            try Data(text.utf8).write(to: url)
        }
        defer { FormatsFixtures.remove(d3) }
        #expect(e3 == .empty(file: inf3.path))
    }

    @Test("missing .dat and missing .inf")
    func missingPrestoFiles() throws {
        let (e1, inf1, d1) = try Self.prestoFiles { base in
            try FileManager.default.removeItem(at: base.appendingPathExtension("dat"))
        }
        defer { FormatsFixtures.remove(d1) }
        let dat1 = inf1.deletingPathExtension().appendingPathExtension("dat").path
        guard case let .cannotOpen(file, _) = e1 else {
            Issue.record("expected cannotOpen, got \(String(describing: e1))")
            return
        }
        #expect(file == dat1)
        Self.expectDescription(e1, mentions: ["ser.dat"])

        let (e2, inf2, d2) = try Self.prestoFiles { base in
            try FileManager.default.removeItem(at: base.appendingPathExtension("inf"))
        }
        defer { FormatsFixtures.remove(d2) }
        guard case let .cannotOpen(file2, _) = e2 else {
            Issue.record("expected cannotOpen, got \(String(describing: e2))")
            return
        }
        #expect(file2 == inf2.path)
    }
}
