import PulsarSearch
import Testing

/// Header values and data of the SIGPROC files in ../shared/data.
@Suite("Formats: real filterbank files")
struct FormatsRealDataTests {
    @Test("tutorial.fil header")
    func tutorialHeader() throws {
        let reader = try FilterbankReader(path: FormatsFixtures.dataPath("tutorial.fil"))
        let h = reader.header
        #expect(h.nchans == 64)
        #expect(h.nbits == 2)
        #expect(h.nifs == 1)
        #expect(h.dataType == 1)
        #expect(abs(h.fch1 - 1510) < 1e-9)
        #expect(abs(h.foff - -1.09) < 1e-9)
        #expect(abs(h.tsamp - 320e-6) < 1e-12)
        #expect(reader.spectrumCount == 187_520)
        #expect(h.bytesPerSpectrum == 16)
        #expect(reader.headerLength == 244)
        #expect(abs(h.highestFrequency - 1510) < 1e-9)
        #expect(abs(h.lowestFrequency - (1510 - 63 * 1.09)) < 1e-9)
        #expect(h.sourceName.hasPrefix("P: 250"))

        let decoded = try SigprocHeader.decode(path: FormatsFixtures.dataPath("tutorial.fil"))
        #expect(decoded.header == h)
        #expect(decoded.length == 244)
    }

    @Test("parkes_8bit_1.fil header")
    func parkesHeader() throws {
        let reader = try FilterbankReader(path: FormatsFixtures.dataPath("parkes_8bit_1.fil"))
        let h = reader.header
        #expect(h.nchans == 832)
        #expect(h.nbits == 8)
        #expect(abs(h.fch1 - 4030) < 1e-9)
        #expect(abs(h.foff - -4) < 1e-9)
        #expect(abs(h.tsamp - 512e-6) < 1e-12)
        #expect(reader.spectrumCount == 4096)
        #expect(h.sourceName == "J0534+2200")
        #expect(h.rawDataFile == "unknown")
        #expect(h.telescopeID == 4)
        #expect(h.nbeams == 0 && h.ibeam == 0)
        #expect(abs(h.frequency(ofChannel: 831) - (4030 - 831 * 4)) < 1e-9)
    }

    @Test("tutorial.fil data: values in 0...3, plausible channel means")
    func tutorialData() throws {
        let reader = try FilterbankReader(path: FormatsFixtures.dataPath("tutorial.fil"))
        let nchans = reader.header.nchans
        let block = 10_007
        var buffer = [Float](repeating: 0, count: block * nchans)
        var sums = [Double](repeating: 0, count: nchans)
        var outOfRange = 0
        var total = 0
        try buffer.withUnsafeMutableBufferPointer { buf in
            while true {
                let n = try reader.read(into: buf, count: block)
                if n == 0 { break }
                for s in 0..<n {
                    for c in 0..<nchans {
                        let v = buf[s * nchans + c]
                        if !(v == 0 || v == 1 || v == 2 || v == 3) { outOfRange += 1 }
                        sums[c] += Double(v)
                    }
                }
                total += n
            }
        }
        #expect(total == 187_520)
        #expect(outOfRange == 0)
        let means = sums.map { $0 / Double(total) }
        for mean in means { #expect(mean > 0.5 && mean < 2.5) }

        // Random access: seek back and reread the first spectrum; it matches a fresh reader.
        try reader.seek(toSpectrum: 0)
        var again = [Float](repeating: -1, count: nchans)
        let n = try again.withUnsafeMutableBufferPointer { try reader.read(into: $0, count: 1) }
        #expect(n == 1)
        let fresh = try FilterbankReader(path: FormatsFixtures.dataPath("tutorial.fil"))
        var first = [Float](repeating: -2, count: nchans)
        _ = try first.withUnsafeMutableBufferPointer { try fresh.read(into: $0, count: 1) }
        #expect(again == first)
        // First byte of data is 0x9a = 0b10_01_10_10: low bits first -> 2, 2, 1, 2.
        #expect(Array(first[0..<4]) == [2, 2, 1, 2])
    }

    @Test("parkes_8bit_1.fil data: 8-bit values, nonzero channel means")
    func parkesData() throws {
        let reader = try FilterbankReader(path: FormatsFixtures.dataPath("parkes_8bit_1.fil"))
        let all = try FormatsFixtures.readAll(reader, blockSizes: [333, 1, 1000])
        #expect(all.allSatisfy { $0 >= 0 && $0 <= 255 && $0 == $0.rounded() })
        var total: Double = 0
        for v in all { total += Double(v) }
        #expect(total / Double(all.count) > 1)
        // First data byte after the header is 0x71 = 113.
        #expect(all[0] == 113)
        #expect(all[1] == 0x88)
    }
}
