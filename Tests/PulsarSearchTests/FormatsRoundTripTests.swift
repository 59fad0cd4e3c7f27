import Foundation
import PulsarSearch
import Testing

/// FilterbankWriter -> FilterbankReader round trips.
@Suite("Formats: filterbank round trips")
struct FormatsRoundTripTests {
    /// Random integer-valued samples within the range of `nbits` (floats in a modest range for 32).
    static func randomSpectra(count: Int, nbits: Int, signed: Bool, seed: UInt64) -> [Float] {
        var rng = FormatsFixtures.Random(seed: seed)
        return (0..<count).map { _ in
            switch nbits {
            case 32: return Float(Int.random(in: -100_000...100_000, using: &rng)) / 64
            case 16: return Float(signed ? Int.random(in: -32768...32767, using: &rng) : Int.random(in: 0...65535, using: &rng))
            case 8: return Float(signed ? Int.random(in: -128...127, using: &rng) : Int.random(in: 0...255, using: &rng))
            default: return Float(Int.random(in: 0...((1 << nbits) - 1), using: &rng))
            }
        }
    }

    static let cases: [(nbits: Int, foff: Double)] = [1, 2, 4, 8, 16, 32].flatMap { [($0, -0.5), ($0, 0.25)] }

    @Test("write then read back exactly", arguments: cases)
    func roundTrip(nbits: Int, foff: Double) throws {
        let dir = try FormatsFixtures.temporaryDirectory()
        defer { FormatsFixtures.remove(dir) }
        let path = dir.appendingPathComponent("rt.fil").path
        let nchans = 24  // 24 * nbits is a whole number of bytes for every nbits
        let spectra = 517
        var header = FilterbankHeader(
            sourceName: "B1937+21", fch1: foff < 0 ? 1500 : 1200, foff: foff, nchans: nchans, nbits: nbits,
            tsamp: 64e-6, tstart: 59123.456789)
        header.rawDataFile = "raw.sf"
        header.telescopeID = 4
        header.machineID = 10
        header.refdm = 71.02
        header.srcRaj = 193939.4
        header.srcDej = 213459.6
        header.azStart = 12.5
        header.zaStart = 33.25
        header.barycentric = 0
        header.pulsarcentric = 0
        header.nbeams = 13
        header.ibeam = 2
        header.nsamples = spectra
        header.period = 0.00155780
        let data = Self.randomSpectra(count: nchans * spectra, nbits: nbits, signed: false, seed: UInt64(nbits) * 7 + (foff < 0 ? 1 : 2))

        let writer = try FilterbankWriter(path: path, header: header)
        // Write in uneven pieces (each a whole number of spectra).
        try data.withUnsafeBufferPointer { all in
            var start = 0
            for pieceSpectra in [1, 200, 33, 283] {
                let end = start + pieceSpectra * nchans
                try writer.write(UnsafeBufferPointer(rebasing: all[start..<end]))
                start = end
            }
            #expect(start == all.count)
        }
        try writer.close()

        let reader = try FilterbankReader(path: path)
        #expect(reader.header == header)
        #expect(reader.spectrumCount == spectra)
        #expect(reader.headerLength == SigprocHeader.encode(header).count)
        let back = try FormatsFixtures.readAll(reader, blockSizes: [7, 1, 129, 3, 255])
        #expect(back == data)
        #expect(abs(reader.header.frequency(ofChannel: 3) - (header.fch1 + 3 * foff)) < 1e-12)
        if foff < 0 {
            #expect(reader.header.highestFrequency == header.fch1)
        } else {
            #expect(reader.header.lowestFrequency == header.fch1)
        }
    }

    @Test("signed 8- and 16-bit samples", arguments: [8, 16])
    func signedRoundTrip(nbits: Int) throws {
        let dir = try FormatsFixtures.temporaryDirectory()
        defer { FormatsFixtures.remove(dir) }
        let path = dir.appendingPathComponent("signed.fil").path
        var header = FilterbankHeader(fch1: 1400, foff: -1, nchans: 5, nbits: nbits, tsamp: 1e-3)
        header.isSigned = true
        let data = Self.randomSpectra(count: 5 * 101, nbits: nbits, signed: true, seed: 99)
        let writer = try FilterbankWriter(path: path, header: header)
        try data.withUnsafeBufferPointer { try writer.write($0) }
        try writer.close()
        let reader = try FilterbankReader(path: path)
        #expect(reader.header.isSigned == true)
        #expect(try FormatsFixtures.readAll(reader, blockSizes: [13]) == data)
    }

    @Test("quantisation rounds to nearest and clamps")
    func quantisation() throws {
        let dir = try FormatsFixtures.temporaryDirectory()
        defer { FormatsFixtures.remove(dir) }
        let path = dir.appendingPathComponent("q.fil").path
        let header = FilterbankHeader(fch1: 1400, foff: -1, nchans: 8, nbits: 2, tsamp: 1e-3)
        let input: [Float] = [-5, 0.4, 0.6, 1.49, 2.51, 3.2, 99, .nan]
        let writer = try FilterbankWriter(path: path, header: header)
        try input.withUnsafeBufferPointer { try writer.write($0) }
        try writer.close()
        let reader = try FilterbankReader(path: path)
        #expect(try FormatsFixtures.readAll(reader, blockSizes: [1]) == [0, 0, 1, 1, 3, 3, 3, 0])
    }

    @Test("seek and position")
    func seeking() throws {
        let dir = try FormatsFixtures.temporaryDirectory()
        defer { FormatsFixtures.remove(dir) }
        let path = dir.appendingPathComponent("seek.fil").path
        let header = FilterbankHeader(fch1: 1400, foff: -1, nchans: 3, nbits: 8, tsamp: 1e-3)
        let data = (0..<30).map { Float($0) }
        let writer = try FilterbankWriter(path: path, header: header)
        try data.withUnsafeBufferPointer { try writer.write($0) }
        try writer.close()

        let reader = try FilterbankReader(path: path)
        try reader.seek(toSpectrum: 7)
        #expect(reader.position == 7)
        var buffer = [Float](repeating: 0, count: 12)
        let n = try buffer.withUnsafeMutableBufferPointer { try reader.read(into: $0, count: 4) }
        #expect(n == 3)
        #expect(Array(buffer[0..<9]) == Array(data[21..<30]))
        #expect(try buffer.withUnsafeMutableBufferPointer { try reader.read(into: $0, count: 4) } == 0)
        let error = FormatsFixtures.formatError { try reader.seek(toSpectrum: 11) }
        #expect(error == .invalidValue(file: path, field: "spectrum index", value: "11", reason: "outside the file's 0...10 spectra"))
    }

    @Test("header encode/decode round trip with every optional field absent")
    func minimalHeader() throws {
        let dir = try FormatsFixtures.temporaryDirectory()
        defer { FormatsFixtures.remove(dir) }
        let path = dir.appendingPathComponent("min.fil").path
        let header = FilterbankHeader(fch1: 350, foff: 0.1, nchans: 16, nbits: 4, tsamp: 81.92e-6)
        try FormatsFixtures.write(SigprocHeader.encode(header) + [UInt8](repeating: 0x21, count: 16), to: URL(fileURLWithPath: path))
        let decoded = try SigprocHeader.decode(path: path)
        #expect(decoded.header == header)
        #expect(decoded.header.refdm == nil && decoded.header.isSigned == nil && decoded.header.telescopeID == nil)
        let reader = try FilterbankReader(path: path)
        #expect(reader.spectrumCount == 2)
        // 0x21: low nibble first -> 1, 2.
        #expect(try Array(FormatsFixtures.readAll(reader, blockSizes: [2])[0..<2]) == [1, 2])
    }
}
