import Foundation
import PulsarSearch
import Testing

@Suite("PSRFITS search-mode input")
struct FormatsPSRFITSTests {
    static func readAll(_ source: any SpectrumSource, block: Int = 97) throws -> [Float] {
        var out = [Float](repeating: .nan, count: source.spectrumCount * source.channelCount)
        var done = 0
        try out.withUnsafeMutableBufferPointer { buffer in
            while true {
                let n = try source.read(into: UnsafeMutableBufferPointer(rebasing: buffer[(done * source.channelCount)...]), count: block)
                if n == 0 { break }
                done += n
            }
        }
        #expect(done == source.spectrumCount)
        return out
    }

    static func close(_ a: [Float], _ b: [Float]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) }
    }

    @Test("real 8-bit AA+BB data: header, frequencies and every value equal an independent decoding with DAT_SCL, DAT_OFFS and DAT_WTS")
    func realTotalIntensity() throws {
        let path = FormatsFixtures.dataPath("psrfits/yuppi_336ch_1s.fits")
        let source = try ObservationFile.open(path)
        #expect(source is PSRFITSReader)
        #expect(source.channelCount == 336 && source.spectrumCount == 789 && source.sampleTime == 0.00126646875)
        #expect(source.channelFrequency(0) > source.channelFrequency(335) && abs(source.header.foff + 1) < 1e-9)
        let info = source.info
        #expect(info.telescope == "VLA" && info.source == "src1" && info.format == "psrfits")
        #expect(abs(info.mjd - (58682 + (53595 + 0.3637763159349561) / 86_400)) < 1e-10)
        #expect(abs(info.raDegrees! - (12 + 26 / 60.0 + 37.6361 / 3600) * 15) < 1e-9)
        #expect(abs(info.decDegrees! - (13 + 57 / 60.0 + 52.1120 / 3600)) < 1e-9)
        let plain = try PlainFITS(path: path)
        let expected = plain.intensity()
        // (This file's scales, offsets and weights are uniform; the round trip below varies them.)
        let got = try Self.readAll(source)
        #expect(Self.close(got, expected), "first values \(got.prefix(4)) vs \(expected.prefix(4))")
        // Seeking back re-reads the same spectra.
        try source.seek(toSpectrum: 700)
        var tail = [Float](repeating: 0, count: 89 * 336)
        _ = try tail.withUnsafeMutableBufferPointer { try source.read(into: $0, count: 89) }
        #expect(tail == Array(got[(700 * 336)...]))
    }

    @Test("the real one-second file searched end to end: every candidate has a positive period (the fold's grid once went below 0 Hz)")
    func realSearch() throws {
        let source = try ObservationFile.open(FormatsFixtures.dataPath("psrfits/yuppi_336ch_1s.fits"))
        let report = try SearchPipeline(configuration: SearchFixtures.configuration(dmMax: 400), planner: SearchFixtures.planner).search(source)
        #expect(!report.candidates.isEmpty)
        #expect(report.candidates.allSatisfy { $0.frequencyHz > 0 && $0.periodS > 0 }, "\(SearchFixtures.summary(report))")
    }

    @Test("real IQUV data: total intensity is Stokes I alone, not a sum of the four products")
    func realIQUV() throws {
        let path = FormatsFixtures.dataPath("psrfits/yuppi_b0950_iquv.fits")
        let source = try PSRFITSReader(path: path)
        #expect(source.polarisations == 4 && source.channelCount == 512 && source.spectrumCount == 200)
        #expect(source.info.source == "B0950+08")
        let plain = try PlainFITS(path: path)
        #expect(Self.close(try Self.readAll(source, block: 64), plain.intensity()))
    }

    @Test("1, 2, 4 and 8 bits, AABBCRCI and IQUV, several rows, both frequency orders: every value as PSRFITS defines it", arguments: [1, 2, 4, 8])
    func roundTrip(bits: Int) throws {
        let directory = try FormatsFixtures.temporaryDirectory()
        defer { FormatsFixtures.remove(directory) }
        var rng = SeededGenerator(seed: UInt64(bits))
        for (polType, ascending) in [("AABBCRCI", true), ("IQUV", false), ("AA+BB", true)] {
            let nch = 24, nsblk = 16, rows = 3
            let npol = polType == "AA+BB" ? 1 : 4
            let freqs: [Double] = (0..<nch).map { (c: Int) -> Double in ascending ? 1200 + 2 * Double(c) : 1400 - 2 * Double(c) }
            let path = directory.appendingPathComponent("\(bits)-\(polType).fits").path
            let info = ObservationInfo(format: "psrfits", telescope: "Parkes", source: "J0000+0000", mjd: 60000.25,
                                       raDegrees: 123.456, decDegrees: -45.5)
            let writer = try PSRFITSWriter(path: path, info: info, frequencies: freqs, sampleTime: 64e-6, bitsPerSample: bits,
                                           samplesPerRow: nsblk, polType: polType)
            var expected: [Float] = []
            for _ in 0..<rows {
                let samples = (0..<(nsblk * npol * nch)).map { _ in UInt8(Int(rng.uniform() * Double(1 << bits)) % (1 << bits)) }
                let scale = (0..<(nch * npol)).map { _ in Float(0.5 + 2.5 * rng.uniform()) }
                let offset = (0..<(nch * npol)).map { _ in Float(-10 + 20 * rng.uniform()) }
                let weight = (0..<nch).map { $0 % 7 == 3 ? 0 : Float(0.2 + 0.8 * rng.uniform()) }
                try writer.appendRow(samples: samples, scale: scale, offset: offset, weight: weight)
                let products = polType == "AABBCRCI" ? [0, 1] : [0]
                for s in 0..<nsblk {
                    for c in 0..<nch {
                        var total: Float = 0
                        for p in products {
                            let raw = Float(samples[(s * npol + p) * nch + c])
                            total += (raw * scale[p * nch + c] + offset[p * nch + c]) * weight[c]
                        }
                        expected.append(total)
                    }
                }
            }
            try writer.close()
            let reader = try PSRFITSReader(path: path)
            #expect(reader.spectrumCount == rows * nsblk && reader.bitsPerSample == bits)
            #expect(reader.frequencies == freqs && (reader.header.foff > 0) == ascending)
            #expect(abs(reader.info.mjd - 60000.25) < 1e-9 && abs(reader.info.raDegrees! - 123.456) < 1e-6
                    && abs(reader.info.decDegrees! + 45.5) < 1e-6 && reader.info.telescope == "Parkes")
            #expect(Self.close(try Self.readAll(reader, block: 5), expected), "\(bits) bits, \(polType)")
            // Back into an earlier row, and into the middle of another.
            for start in [3, 20, 0] {
                try reader.seek(toSpectrum: start)
                var part = [Float](repeating: 0, count: 9 * nch)
                let got = try part.withUnsafeMutableBufferPointer { try reader.read(into: $0, count: 9) }
                #expect(got == 9 && Self.close(part, Array(expected[(start * nch)..<((start + 9) * nch)])), "seek to \(start)")
            }
        }
    }

    @Test("sub-byte samples are packed first sample in the high bits, as PSRFITS defines (checked on the bytes)")
    func packingOrder() throws {
        let directory = try FormatsFixtures.temporaryDirectory()
        defer { FormatsFixtures.remove(directory) }
        let path = directory.appendingPathComponent("2bit.fits").path
        let info = ObservationInfo(format: "psrfits", telescope: nil, source: "", mjd: 60000, raDegrees: 359.99999999, decDegrees: -0.0000001)
        let writer = try PSRFITSWriter(path: path, info: info, frequencies: [1400, 1399, 1398, 1397], sampleTime: 1e-3, bitsPerSample: 2,
                                       samplesPerRow: 1)
        try writer.appendRow(samples: [3, 0, 1, 2], scale: [1, 1, 1, 1], offset: [0, 0, 0, 0], weight: [1, 1, 1, 1])
        try writer.close()
        #expect(Array(try PlainFITS(path: path).cell("DATA", row: 0)) == [0xC6])
        let reader = try PSRFITSReader(path: path)
        #expect(try Self.readAll(reader) == [3, 0, 1, 2])
        // Positions that round up to a whole minute are written with the minute carried.
        #expect(try #require(reader.info.raDegrees) < 360.0001 && abs(try #require(reader.info.decDegrees)) < 1e-4)
    }

    @Test("a pulsar simulated as PSRFITS, with channels in either order, is found as in the SIGPROC file of the same observation")
    func searchEquivalence() throws {
        let directory = try FormatsFixtures.temporaryDirectory()
        defer { FormatsFixtures.remove(directory) }
        var o = SimulatedObservation()
        o.channels = 32
        o.foff = -4
        o.tsamp = 512e-6
        o.samples = 1 << 15
        o.pulsars = [InjectedPulsar(period: 0.1234, dm: 40, dutyCycle: 0.04, snr: 18)]
        let fil = directory.appendingPathComponent("sim.fil").path
        try Simulator.writeFilterbank(o, to: fil)
        var reports: [SearchReport] = []
        for path in [fil, directory.appendingPathComponent("desc.fits").path, directory.appendingPathComponent("asc.fits").path] {
            if path.hasSuffix(".fits") { try Simulator.writePSRFITS(o, to: path, samplesPerRow: 2048, ascending: path.hasSuffix("asc.fits")) }
            let source = try ObservationFile.open(path)
            reports.append(try SearchPipeline(configuration: SearchFixtures.configuration(dmMax: 100), planner: SearchFixtures.planner)
                .search(source))
        }
        let found = reports.map { SearchFixtures.match($0, period: 0.1234, tolerance: 1e-3) }
        #expect(found.allSatisfy { $0?.rank == 0 }, "\(reports.map(SearchFixtures.summary))")
        let sigmas = found.compactMap { $0?.candidate.sigma }
        #expect(sigmas.count == 3 && sigmas.allSatisfy { abs($0 - sigmas[0]) < 1e-3 * sigmas[0] }, "\(sigmas)")
        #expect(found.compactMap { $0?.candidate.dm }.allSatisfy { abs($0 - 40) < 3 })
    }

    @Test("bad PSRFITS files are refused naming the file, HDU, keyword or column, and value")
    func errors() throws {
        let directory = try FormatsFixtures.temporaryDirectory()
        defer { FormatsFixtures.remove(directory) }
        let good = FormatsFixtures.dataPath("psrfits/yuppi_336ch_1s.fits")
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: good)))
        func patched(_ name: String, _ find: String, _ replace: String) throws -> String {
            let text = String(decoding: bytes, as: UTF8.self)
            precondition(text.contains(find) && find.count == replace.count)
            let path = directory.appendingPathComponent(name).path
            var copy = bytes
            let range = text.utf8.ranges(of: find.utf8).first!
            let start = text.utf8.distance(from: text.utf8.startIndex, to: range.lowerBound)
            copy.replaceSubrange(start..<(start + find.utf8.count), with: Array(replace.utf8))
            try Data(copy).write(to: URL(fileURLWithPath: path))
            return path
        }
        func message(_ path: String) -> String {
            do {
                _ = try ObservationFile.open(path)
                return "opened"
            } catch {
                return "\(error)"
            }
        }
        let nbits = try patched("nbits.fits", "NBITS   =                    8", "NBITS   =                    3")
        #expect(message(nbits) == "\(nbits): field 'SUBINT HDU, NBITS' has value 3.0: only 1, 2, 4 and 8-bit search data are supported")
        let fold = try patched("fold.fits", "OBS_MODE= 'SEARCH  '", "OBS_MODE= 'PSR     '")
        #expect(message(fold).hasPrefix("\(fold): field 'primary HDU, OBS_MODE' has value 'PSR':"))
        let noType = try patched("notype.fits", "FITSTYPE= 'PSRFITS '", "FITSTYPE= 'IMAGE   '")
        #expect(message(noType).hasPrefix("\(noType): field 'primary HDU, FITSTYPE' has value 'IMAGE': not a PSRFITS file"))
        let pol = try patched("pol.fits", "NPOL    =                    1", "NPOL    =                    2")
        #expect(message(pol) == "\(pol): field 'SUBINT HDU, POL_TYPE' has value 'AA+BB' with NPOL 2: total intensity is formed from AABB, AABBCRCI, IQUV, AA+BB or INTEN data")
        let column = try patched("column.fits", "TTYPE16 = 'DAT_SCL '", "TTYPE16 = 'DAT_SCX '")
        #expect(message(column) == "\(column): required field 'SUBINT HDU, column DAT_SCL' is missing")
        let truncated = directory.appendingPathComponent("truncated.fits").path
        try Data(bytes.prefix(bytes.count / 2)).write(to: URL(fileURLWithPath: truncated))
        let cut = message(truncated)
        #expect(cut.hasPrefix(truncated) && cut.contains("SUBINT HDU, NAXIS2") && cut.contains("truncated"), "\(cut)")
        // A FITS file is never mistaken for SIGPROC, whatever its name.
        let renamed = directory.appendingPathComponent("looks.fil").path
        try FileManager.default.copyItem(atPath: good, toPath: renamed)
        #expect(try ObservationFile.open(renamed) is PSRFITSReader)
    }
}
