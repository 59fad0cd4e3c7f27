import CSearchKernels
import Foundation
@testable import PulsarSearch
import Testing

/// The interference statistics against brute force, on random unequal data.
@Suite("RFI: statistics, thresholds and the mask file")
struct RFIKernelTests {
    @Test("the median and quickselect equal sorting, on random arrays of every small length, ties included")
    func medians() {
        var rng = SeededGenerator(seed: 7)
        for n in 1...200 {
            let values = (0..<n).map { _ in Float(Int(rng.uniform() * 20)) + Float(rng.uniform() < 0.5 ? 0 : 0.25) }
            let sorted = values.sorted()
            let expected = n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2])
            #expect(Robust.median(values) == expected, "n = \(n)")
            var copy = values
            let k = Int(rng.uniform() * Double(n))
            copy.withUnsafeMutableBufferPointer { Robust.quickselect($0, k) }
            #expect(copy[k] == sorted[k] && copy[..<k].allSatisfy { $0 <= sorted[k] } && copy[(k + 1)...].allSatisfy { $0 >= sorted[k] })
        }
    }

    @Test("block means, deviations and whitened peak powers equal a brute-force DFT of the samples summed `decimation` at a time, per channel and block, on unequal random data; with clipping, impulses leave all three",
          arguments: [(1, false), (4, false), (4, true)])
    func blockStatistics(decimation: Int, impulses: Bool) throws {
        var rng = SeededGenerator(seed: 11)
        // 37 channels: two full groups of 16 and a partial one.
        let nch = 37, length = 512, blocks = 3, total = length * blocks + 37  // the last block is longer
        var data = [Float](repeating: 0, count: total * nch)
        for t in 0..<total {
            for c in 0..<nch {
                // Unequal levels, scales and tones per channel, and a common-mode wobble.
                data[t * nch + c] = Float(10 * c) + Float(c + 1) * Float(rng.gaussian())
                    + Float(c == 2 ? 6 * sin(2 * Double.pi * 37 * Double(t) / Double(length)) : 0)
                    // Broadband interference passes through each channel's gain, as the noise does.
                    + Float(c + 1) * Float(2 * sin(2 * Double.pi * 11 * Double(t) / Double(length)))
            }
        }
        // Broadband impulses (in the first block's first chunk too, and two in one summed row), clipped
        // when clipping is on: they must leave the means, the deviations and the transforms.
        let clipped: Set<Int> = impulses ? [3, 100, 101, 777, 1300, 1540] : []
        for t in clipped { for c in 0..<nch { data[t * nch + c] += Float(60 * (c + 1)) } }
        let source = InMemorySpectra(data: data, channelFrequencies: (0..<nch).map { 1400 - Double($0) }, sampleTime: 1e-3)
        let stats = try BlockStatistics.measure(source, blockSamples: length, blocks: blocks, clipSigma: impulses ? 6 : 0,
                                                decimation: decimation, planner: FFTPlanner(rigor: .estimate), threads: 3)
        let points = length / decimation
        for b in 0..<blocks {
            let count = b == blocks - 1 ? total - b * length : length
            let rows = ((b * length)..<(b * length + count)).filter { !clipped.contains($0) }
            var common = [Double](repeating: 0, count: length)
            var means = [Double](), sds = [Double]()
            for c in 0..<nch {
                let x = rows.map { Double(data[$0 * nch + c]) }
                let m = x.reduce(0, +) / Double(rows.count)
                means.append(m)
                sds.append((x.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(rows.count)).squareRoot())
                #expect(abs(Double(stats.mean[b * nch + c]) - m) < 1e-4 * max(1, abs(m)))
                #expect(abs(Double(stats.std[b * nch + c]) - sds[c]) < 1e-4 * sds[c])
            }
            for t in 0..<length where !clipped.contains(b * length + t) {
                common[t] = (0..<nch).map { (Double(data[(b * length + t) * nch + $0]) - means[$0]) / sds[$0] }.reduce(0, +) / Double(nch)
            }
            for c in 0..<nch {
                // A clipped spectrum is replaced by the channel's mean: 0 once the mean is taken out.
                let samples = (0..<length).map { clipped.contains(b * length + $0) ? 0 : Double(data[(b * length + $0) * nch + c]) - means[c] - common[$0] * sds[c] }
                let x = (0..<points).map { j in samples[(j * decimation)..<((j + 1) * decimation)].reduce(0, +) }
                var powers = [Float](repeating: 0, count: points / 2 + 1)  // filled below
                for k in 1...(points / 2) {
                    var re = 0.0, im = 0.0
                    for (t, v) in x.enumerated() {
                        re += v * cos(2 * Double.pi * Double(k * t) / Double(points))
                        im -= v * sin(2 * Double.pi * Double(k * t) / Double(points))
                    }
                    powers[k] = Float(re * re + im * im)
                }
                // Whitened independently: per 256-bin chunk the mean, again without powers over 5 x
                // it, corrected for that clipping (an exponential's mean clipped at 5 is 0.966 of it).
                var expected: Float = 0
                for start in stride(from: 1, to: points / 2, by: 256) {
                    let chunk = Array(powers[start..<min(points / 2, start + 256)]).map(Double.init)
                    let first = chunk.reduce(0, +) / Double(chunk.count)
                    let kept = chunk.filter { $0 <= 5 * first }
                    let mean = kept.reduce(0, +) / Double(kept.count) / (1 - 5 * exp(-5.0) / (1 - exp(-5.0)))
                    expected = max(expected, Float(chunk.max()! / mean))
                }
                let got = stats.peakPower[b * nch + c]
                #expect(abs(got - expected) < 2e-3 * expected, "block \(b) channel \(c): \(got) vs \(expected)")
                // The tone in channel 2 stands out; the common wobble is gone from every channel.
                #expect(c == 2 ? got > 30 : got < 25, "block \(b) channel \(c): \(got)")
            }
        }
    }

    @Test("on noise, the strongest whitened power of a cell exceeds the threshold about as often as the Gaussian tail says (binomial bounds, 12,000 cells), with samples summed or not",
          arguments: [1, 4])
    func falseAlarmRate(decimation: Int) throws {
        // A looser sigma than the default so that the rate is measurable: p(2.5 sigma) = 0.0062.
        let sigma = 2.5, length = 512, nch = 40, blocks = 300
        var rng = SeededGenerator(seed: 3)
        let data = (0..<(length * blocks * nch)).map { _ in Float(rng.gaussian()) }
        let source = InMemorySpectra(data: data, channelFrequencies: (0..<nch).map { 1400 - Double($0) }, sampleTime: 1e-3)
        let stats = try BlockStatistics.measure(source, blockSamples: length, blocks: blocks, decimation: decimation, planner: FFTPlanner(rigor: .estimate))
        let threshold = Float(RFIMasker.powerThreshold(sigma: sigma, bins: stats.searchedBins))
        let hits = stats.peakPower.filter { $0 > threshold }.count
        let n = Double(stats.peakPower.count), p = 0.5 * erfc(sigma / 2.0.squareRoot())
        let sd = (n * p * (1 - p)).squareRoot()
        #expect(Double(hits) > n * p - 4 * sd && Double(hits) < n * p + 4 * sd, "\(hits) of \(Int(n)) cells, expected \(n * p) ± \(sd)")
    }

    @Test("a mask file reads back equal; a corrupt one is refused naming the file and what is wrong")
    func maskFile() throws {
        let directory = try FormatsFixtures.temporaryDirectory()
        defer { FormatsFixtures.remove(directory) }
        var rng = SeededGenerator(seed: 5)
        let header = RFIMask.Header(channels: 13, blocks: 7, blockSamples: 300, spectra: 2150, sampleTime: 64e-6, options: RFIOptions(),
                                    channelLevel: (0..<13).map { _ in Float(rng.gaussian()) }, channelScale: (0..<13).map { _ in Float(rng.uniform()) })
        let mask = RFIMask(header: header, masked: (0..<91).map { _ in rng.uniform() < 0.3 })
        let path = directory.appendingPathComponent("m.mask").path
        try mask.write(to: path)
        #expect(try RFIMask.read(from: path) == mask)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes.removeLast()
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(throws: FormatError.partialSample(file: path, field: "bitmap", value: "11 bytes", reason: "13 channels x 7 blocks need 12")) {
            try RFIMask.read(from: path)
        }
        try Data("SIMPLE  = T".utf8).write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: FormatError.self) { try RFIMask.read(from: path) }
        #expect("\(error!)".hasPrefix("\(path): field 'magic'"))
        // A mask of another file is refused before it is used.
        let other = InMemorySpectra(data: [Float](repeating: 0, count: 13 * 100), channelFrequencies: (0..<13).map { Double(1400 - $0) },
                                    sampleTime: 64e-6)
        #expect(throws: FormatError.self) { try mask.check(matches: other, file: path) }
        for (channels, spectra, tsamp) in [(12, 2150, 64e-6), (13, 2150, 128e-6)] {
            let mismatch = InMemorySpectra(data: [Float](repeating: 0, count: channels * spectra),
                                           channelFrequencies: (0..<channels).map { Double(1400 - $0) }, sampleTime: tsamp)
            #expect(throws: FormatError.self) { try mask.check(matches: mismatch, file: path) }
        }
        // The bitmap's bit order, on the bytes: only cell 0 and cell 9 masked.
        var one = RFIMask(header: header, masked: [Bool](repeating: false, count: 91))
        one.masked[0] = true
        one.masked[9] = true
        let encoded = [UInt8](try one.encoded())
        #expect(Array(encoded.suffix(12).prefix(2)) == [0x80, 0x40])
    }

    @Test("the mask pass's kernels equal brute force on random unequal data: running sums, the tiled decimated series, weighted rows and each group's series, for any channel count, decimation and starting row",
          arguments: [(37, 4, 2), (16, 8, 0), (5, 1, 3), (64, 2, 1)])
    func passKernels(channels nch: Int, decimation: Int, firstRow: Int) {
        var rng = SeededGenerator(seed: UInt64(nch * 100 + decimation))
        let rows = 53, decRows = 16, groups = (nch + 15) / 16
        let x = (0..<(rows * nch)).map { _ in Float(100 + 20 * rng.gaussian()) }
        let shift = (0..<nch).map { _ in Float(100 + rng.gaussian()) }
        let weight = (0..<nch).map { _ in Float(rng.uniform()) }
        // The tile layout, pinned independently of the header's function.
        for c in 0..<(groups * 16) {
            for j in 0..<decRows {
                #expect(xx_rfi_dec_index(c, j, groups) == ((j / 8 * groups + c / 16) * 8 + j % 8) * 16 + c % 16)
            }
        }
        // Brute force, in double.
        var sum = [Double](repeating: 0, count: nch), sumSq = sum, common = [Double](repeating: 0, count: rows)
        var dec = [Double](repeating: 0, count: nch * decRows)
        for t in 0..<rows {
            for c in 0..<nch {
                let v = Double(x[t * nch + c] - shift[c])
                sum[c] += v
                sumSq[c] += v * v
                common[t] += v * Double(weight[c])
                let j = (firstRow + t) / decimation
                if j < decRows { dec[c * decRows + j] += v }
            }
        }
        for scalar in [false, true] {
            var s = [Float](repeating: 0, count: nch), q = s, out = [Float](repeating: 0, count: rows)
            var tiles = [Float](repeating: 0, count: groups * 16 * decRows)
            if scalar {
                xx_rfi_accumulate_scalar(x, rows, nch, shift, weight, &s, &q, &tiles, firstRow, decimation, decRows, &out)
            } else {
                xx_rfi_accumulate(x, rows, nch, shift, weight, &s, &q, &tiles, firstRow, decimation, decRows, &out)
            }
            let kernel = scalar ? "scalar" : "vector"
            for c in 0..<nch {
                #expect(abs(Double(s[c]) - sum[c]) < 1e-3 * (1 + abs(sum[c])), "\(kernel) sum \(c)")
                #expect(abs(Double(q[c]) - sumSq[c]) < 1e-4 * sumSq[c], "\(kernel) sum of squares \(c)")
                for j in 0..<decRows {
                    let got = Double(tiles[xx_rfi_dec_index(c, j, groups)])
                    #expect(abs(got - dec[c * decRows + j]) < 1e-3 * (1 + abs(dec[c * decRows + j])), "\(kernel) series \(c) row \(j)")
                }
            }
            for t in 0..<rows { #expect(abs(Double(out[t]) - common[t]) < 1e-3 * (1 + abs(common[t])), "\(kernel) spectrum \(t)") }
            // Nothing lands outside the channels' places.
            let used = Set((0..<nch).flatMap { c in (0..<decRows).map { xx_rfi_dec_index(c, $0, groups) } })
            #expect(tiles.indices.allSatisfy { used.contains($0) || tiles[$0] == 0 })
            if scalar { continue }
            // Weighted rows and each group's series, from these tiles.
            var padded = [Float](repeating: 0, count: groups * 16)
            for c in 0..<nch { padded[c] = weight[c] }
            var rowsOut = [Float](repeating: 0, count: decRows)
            xx_rfi_weighted_rows(tiles, groups, decRows, padded, &rowsOut)
            for j in 0..<decRows {
                let expected = (0..<nch).map { Double(tiles[xx_rfi_dec_index($0, j, groups)]) * Double(weight[$0]) }.reduce(0, +)
                #expect(abs(Double(rowsOut[j]) - expected) < 1e-3 * (1 + abs(expected)), "weighted row \(j)")
            }
            let kept = (0..<decRows).map { _ in Float(Int(rng.uniform() * 4)) }
            let level = (0..<(groups * 16)).map { _ in Float(rng.gaussian()) }, scale = (0..<(groups * 16)).map { _ in Float(rng.uniform()) }
            let before = tiles
            for g in 0..<groups {
                let width = min(16, nch - g * 16)
                let series = (0..<width).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: decRows) }
                defer { series.forEach { $0.deallocate() } }
                var pointers: [UnsafeMutablePointer<Float>?] = series
                let l = Array(level[(g * 16)..<(g * 16 + 16)]), sc = Array(scale[(g * 16)..<(g * 16 + 16)])
                xx_rfi_series(&tiles, groups, g, decRows, width, kept, rowsOut, l, sc, &pointers)
                for i in 0..<width {
                    for j in 0..<decRows {
                        let expected = before[xx_rfi_dec_index(g * 16 + i, j, groups)] - kept[j] * l[i] - rowsOut[j] * sc[i]
                        #expect(abs(series[i][j] - expected) < 1e-4 * (1 + abs(expected)), "group \(g) series \(i) row \(j)")
                    }
                }
            }
            #expect(tiles.allSatisfy { $0 == 0 }, "the series are left at 0 for the next block")
        }
    }

    @Test("the periodic test on summed samples: a weak slow tone and a strong fast one (aliased) are masked; a weak fast tone is masked only when every sample is transformed (the documented trade-off)")
    func periodicTestResolution() throws {
        let nch = 32, tsamp = 64e-6, total = 1 << 15
        var rng = SeededGenerator(seed: 19)
        // Channel 3: 150 Hz at 0.15 sigma; channel 7: 1.3 kHz at 0.4 sigma; channel 11: 1.3 kHz at 0.15 sigma.
        let tones: [Int: (frequency: Double, amplitude: Double)] = [3: (150, 0.15), 7: (1300, 0.4), 11: (1300, 0.15)]
        var data = [Float](repeating: 0, count: total * nch)
        for t in 0..<total {
            for c in 0..<nch {
                var v = 20 + rng.gaussian()
                if let tone = tones[c] { v += tone.amplitude * sin(2 * Double.pi * tone.frequency * Double(t) * tsamp + Double(c)) }
                data[t * nch + c] = Float(v)
            }
        }
        let source = InMemorySpectra(data: data, channelFrequencies: (0..<nch).map { 1400 - Double($0) }, sampleTime: tsamp)
        func maskedChannels(fftSampleTime: Double) throws -> [Int] {
            var options = RFIOptions()
            options.fftSampleTime = fftSampleTime
            let mask = try RFIMasker(options: options, planner: FFTPlanner(rigor: .estimate)).measure(source)
            return (0..<nch).filter { c in (0..<mask.blocks).allSatisfy { mask.masked[$0 * nch + c] } }
        }
        #expect(RFIOptions().fftDecimation(sampleTime: tsamp) == 16)
        #expect(try maskedChannels(fftSampleTime: RFIOptions().fftSampleTime) == [3, 7])
        #expect(try maskedChannels(fftSampleTime: 0) == [3, 7, 11])
    }
}
