import Foundation
import PulsarSearch
import Testing

/// Shared helpers for the Formats tests (namespaced to avoid clashing with other test files).
enum FormatsFixtures {
    /// `../shared/data/NAME` relative to the package root (found from this source file).
    static func dataPath(_ name: String) -> String {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // .../Tests/PulsarSearchTests
            .deletingLastPathComponent()  // .../Tests
            .deletingLastPathComponent()  // package root
            .deletingLastPathComponent()  // package root/..
            .appendingPathComponent("shared/data/\(name)")
            .path
    }

    /// A fresh, empty temporary directory.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("formats-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Removes a temporary directory made by ``temporaryDirectory()``.
    static func remove(_ url: URL) {
        try? FileManager.default.removeItem(at: url)
    }

    /// Writes raw bytes to `url`.
    static func write(_ bytes: [UInt8], to url: URL) throws {
        try Data(bytes).write(to: url)
    }

    /// Reads `count` spectra in blocks of the given sizes (cycling), returning them spectrum-major.
    static func readAll(_ reader: FilterbankReader, blockSizes: [Int]) throws -> [Float] {
        let nchans = reader.header.nchans
        var out = [Float](repeating: .nan, count: reader.spectrumCount * nchans)
        var position = 0
        var block = 0
        try out.withUnsafeMutableBufferPointer { all in
            while true {
                let want = blockSizes[block % blockSizes.count]
                block += 1
                let end = Swift.min(all.count, (position + want) * nchans)
                let slice = UnsafeMutableBufferPointer(rebasing: all[(position * nchans)..<end])
                let got = try reader.read(into: slice, count: Swift.min(want, slice.count / nchans))
                if got == 0 { break }
                position += got
            }
        }
        #expect(position == reader.spectrumCount)
        #expect(reader.position == reader.spectrumCount)
        return out
    }

    /// A small deterministic random generator (SplitMix64).
    struct Random: RandomNumberGenerator {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// SIGPROC header bytes built by hand, for malformed-file tests.
    struct HeaderBuilder {
        var bytes: [UInt8] = []

        mutating func int32(_ v: Int32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
        mutating func string(_ s: String) {
            int32(Int32(s.utf8.count))
            bytes += Array(s.utf8)
        }
        mutating func int(_ key: String, _ v: Int32) {
            string(key)
            int32(v)
        }
        mutating func double(_ key: String, _ v: Double) {
            string(key)
            withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 }
        }

        /// A valid header: HEADER_START + the standard fields (overridable) + HEADER_END.
        static func standard(
            nbits: Int32 = 8, nchans: Int32 = 4, tsamp: Double = 0.001, extra: (inout HeaderBuilder) -> Void = { _ in },
            end: Bool = true
        ) -> [UInt8] {
            var h = HeaderBuilder()
            h.string("HEADER_START")
            h.string("source_name")
            h.string("TEST")
            h.double("fch1", 1400)
            h.double("foff", -1)
            h.int("nchans", nchans)
            h.int("nbits", nbits)
            h.double("tsamp", tsamp)
            h.double("tstart", 60000)
            extra(&h)
            if end { h.string("HEADER_END") }
            return h.bytes
        }
    }

    /// Runs `body`, requiring it to throw a `FormatError`, and returns that error.
    static func formatError(_ body: () throws -> Void) -> FormatError? {
        do {
            try body()
        } catch let error as FormatError {
            return error
        } catch {
            Issue.record("expected a FormatError, got \(error)")
            return nil
        }
        Issue.record("expected a FormatError, but nothing was thrown")
        return nil
    }
}
