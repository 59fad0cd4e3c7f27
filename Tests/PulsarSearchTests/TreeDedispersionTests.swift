import CSearchKernels
import Foundation
@testable import PulsarSearch
import Testing

/// Every kernel of the subband dedisperser against brute-force shift-and-add of the normalised
/// channels, by the shifts the dedisperser states (`channelShifts`), on random unequal data.
@Suite struct TreeDedispersionTests {
    /// Brute force: each weighted channel, downsampled and normalised as the dedisperser reads it,
    /// read `shift[i][c]` samples later (zero past the end), summed in double.
    static func bruteForce(_ source: InMemorySpectra, _ weights: ChannelWeights, shifts: [[Int]], downsample ds: Int) -> [[Double]] {
        let nch = source.channelCount, length = source.spectrumCount / ds
        var rows = [[Double]](repeating: [Double](repeating: 0, count: length), count: nch)
        for c in 0..<nch where weights.weights[c] != 0 {
            for t in 0..<length {
                var sum = 0.0
                for k in 0..<ds { sum += Double(source.data[(t * ds + k) * nch + c]) }
                rows[c][t] = (sum - Double(weights.means[c]) * Double(ds)) * Double(weights.weights[c])
            }
        }
        return shifts.map { shift in
            (0..<length).map { t in
                var sum = 0.0
                for c in 0..<nch where t + shift[c] < length { sum += rows[c][t + shift[c]] }
                return sum
            }
        }
    }

    @Test("tree, vector and reference kernels equal brute-force shift-and-add", arguments: [1, 3])
    func matchesBruteForce(downsample: Int) throws {
        var rng = SeededGenerator(seed: 2718 + UInt64(downsample))
        let nch = 96, spectra = 7001
        // Unequal channels: each its own mean and spread, so a wrong weight or offset shows.
        let level = (0..<nch).map { _ in rng.uniform() * 20 }, spread = (0..<nch).map { _ in 0.5 + 3 * rng.uniform() }
        let data = (0..<(nch * spectra)).map { k in Float(level[k % nch] + spread[k % nch] * rng.gaussian()) }
        let source = InMemorySpectra(data: data, channelFrequencies: (0..<nch).map { 1500 - 3 * Double($0) }, sampleTime: 2.5e-4)
        var weights = try ChannelWeights.measure(source)
        weights.weights[7] = 0
        weights.weights[50] = 0
        // DMs in several nominal groups (about 5.3 apart here), 30 of them in one group so the tree
        // shares, out of order.
        let dms = [0.0] + (0..<60).map { _ in rng.uniform() * 150 } + (0..<30).map { _ in 20 + 2 * rng.uniform() } + [149.9, 37.2]
        let probe = SubbandDedisperser(source: source, weights: weights, subbands: 12)
        let shifts = probe.channelShifts(dms: dms, downsample: downsample)
        let expected = Self.bruteForce(source, weights, shifts: shifts, downsample: downsample)
        let length = spectra / downsample
        func run(_ kernel: SubbandDedisperser.Kernel, chunk: Int, tile: Int, channelTile: Int, channelRadices: [Int] = [2],
                 subbandRadices: [Int] = [2, 3], laps: Int = 4) throws -> [Float] {
            let d = SubbandDedisperser(source: source, weights: weights, subbands: 12)
            d.kernel = kernel
            d.chunkLength = chunk
            d.tile = tile
            d.channelTile = channelTile
            d.channelRadices = channelRadices
            d.subbandRadices = subbandRadices
            d.laps = laps
            let block = try d.dedisperse(dms: dms, downsample: downsample)
            #expect(block.length == length)
            var worst = 0.0
            for i in 0..<dms.count {
                for t in 0..<length {
                    let got = Double(block.data[i * length + t])
                    worst = max(worst, got.isNaN ? .infinity : abs(got - expected[i][t]))
                }
            }
            #expect(worst < 2e-3, "\(kernel), chunk \(chunk), tiles \(tile)/\(channelTile), radices \(channelRadices)/\(subbandRadices), laps \(laps): worst error \(worst)")
            return block.data
        }
        // Tiles of both steps of different lengths (a wrong one used for the other shows), several
        // per chunk; chunks longer and shorter than the largest subband shift (step 2's lag, about
        // 580 samples at DM 150 here), and series buffers moved every chunk or every few.
        // Chunks of 20 are shorter than the largest channel shift inside a subband too (about 65).
        for (chunk, tile, channelTile) in [(1337, 100, 333), (4096, 512, 2048), (200, 64, 90), (20, 16, 7)] {
            for kernel in SubbandDedisperser.Kernel.allCases {
                _ = try run(kernel, chunk: chunk, tile: tile, channelTile: channelTile)
            }
        }
        _ = try run(.tree, chunk: 1337, tile: 100, channelTile: 333, laps: 1)
        _ = try run(.tree, chunk: 200, tile: 64, channelTile: 90, laps: 2)
        let reference = try run(.reference, chunk: 1337, tile: 100, channelTile: 333)
        // The flat vector kernel adds in the reference's order: the same bits; so does the tree with
        // no hierarchy. Either step with a hierarchy adds in another order (so the tree really ran).
        #expect(try run(.vector, chunk: 1337, tile: 100, channelTile: 333) == reference)
        #expect(try run(.tree, chunk: 1337, tile: 100, channelTile: 333, channelRadices: [], subbandRadices: []) == reference)
        #expect(try run(.tree, chunk: 1337, tile: 100, channelTile: 333, channelRadices: [2], subbandRadices: []) != reference)
        #expect(try run(.tree, chunk: 1337, tile: 100, channelTile: 333, channelRadices: [], subbandRadices: [2, 3]) != reference)
    }

    @Test("subbands kept apart by the tree kernel equal the reference's")
    func separateSubbands() throws {
        var rng = SeededGenerator(seed: 99)
        let nch = 64, spectra = 5000
        let data = (0..<(nch * spectra)).map { _ in Float(rng.gaussian()) }
        let source = InMemorySpectra(data: data, channelFrequencies: (0..<nch).map { 800 - 2 * Double($0) }, sampleTime: 1e-3)
        let weights = try ChannelWeights.measure(source)
        var blocks: [[Float]] = []
        for kernel in [SubbandDedisperser.Kernel.tree, .reference] {
            let d = SubbandDedisperser(source: source, weights: weights, subbands: 8)
            d.kernel = kernel
            // Several chunks (the overlap carried over) and step-1 tiles.
            d.chunkLength = 700
            d.channelTile = 300
            blocks.append(try d.dedisperseSubbands(dm: 61.3, downsample: 2).block.data)
        }
        #expect(blocks[0].count == 8 * 2500)
        let worst = zip(blocks[0], blocks[1]).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst < 1e-4, "worst \(worst)")
    }

    @Test("the reader's transpose kernel equals the formula on ragged sizes")
    func transposeNormalise() {
        var rng = SeededGenerator(seed: 5)
        for (spectra, nch) in [(1, 1), (7, 13), (8, 8), (29, 24), (64, 1027)] {
            let x = (0..<(spectra * nch)).map { _ in Float(rng.gaussian() * 40 + 100) }
            let offset = (0..<nch).map { _ in Float(rng.uniform() * 100) }, weight = (0..<nch).map { _ in Float(rng.uniform() + 0.01) }
            let stride = spectra + 5
            var expected = [Float](repeating: -1, count: nch * stride)
            for t in 0..<spectra { for c in 0..<nch { expected[c * stride + t] = (x[t * nch + c] - offset[c]) * weight[c] } }
            var vector = [Float](repeating: -1, count: nch * stride), scalar = vector
            xx_transpose_normalise(x, spectra, nch, offset, weight, &vector, stride)
            xx_transpose_normalise_scalar(x, spectra, nch, offset, weight, &scalar, stride)
            #expect(vector == expected && scalar == expected, "\(spectra) spectra x \(nch) channels, AVX2 \(xx_kernels_use_avx2() != 0)")
        }
    }

    @Test("the 8-bit transpose kernel equals the formula on ragged sizes")
    func transposeNormaliseBytes() {
        var rng = SeededGenerator(seed: 6)
        for (spectra, nch) in [(1, 1), (7, 13), (8, 8), (29, 24), (64, 1027)] {
            let x = (0..<(spectra * nch)).map { _ in UInt8(truncatingIfNeeded: Int(rng.uniform() * 256)) }
            let offset = (0..<nch).map { _ in Float(rng.uniform() * 200) }, weight = (0..<nch).map { _ in Float(rng.uniform() + 0.01) }
            let stride = spectra + 5
            var expected = [Float](repeating: -1, count: nch * stride)
            for t in 0..<spectra { for c in 0..<nch { expected[c * stride + t] = (Float(x[t * nch + c]) - offset[c]) * weight[c] } }
            var vector = [Float](repeating: -1, count: nch * stride), scalar = vector
            xx_transpose_normalise_u8(x, spectra, nch, offset, weight, &vector, stride)
            xx_transpose_normalise_u8_scalar(x, spectra, nch, offset, weight, &scalar, stride)
            #expect(vector == expected && scalar == expected, "\(spectra) spectra x \(nch) channels, AVX2 \(xx_kernels_use_avx2() != 0)")
        }
    }

    @Test("an 8-bit file read as stored bytes dedisperses to the same bits as its samples in memory")
    func bytePathEqualsFloatPath() throws {
        var rng = SeededGenerator(seed: 77)
        let nch = 40, spectra = 3001
        // Unequal channels, so a channel or spectrum out of place changes the sums.
        let level = (0..<nch).map { _ in 20 + rng.uniform() * 180 }
        let data = (0..<(nch * spectra)).map { k in Float(max(0, min(255, (level[k % nch] + 15 * rng.gaussian()).rounded()))) }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("xx-bytes-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("b.fil").path
        let header = FilterbankHeader(sourceName: "bytes", fch1: 1500, foff: -2, nchans: nch, nbits: 8, tsamp: 1e-3, tstart: 60000)
        let writer = try FilterbankWriter(path: path, header: header)
        try data.withUnsafeBufferPointer { try writer.write($0) }
        try writer.close()
        let file = try FilterbankReader(path: path)
        #expect(file.hasUnsignedBytes)
        #expect(ChunkReader(source: file, weights: try ChannelWeights.measure(file), downsample: 1, length: spectra).readsBytes)
        let memory = InMemorySpectra(data: data, channelFrequencies: (0..<nch).map(file.channelFrequency), sampleTime: 1e-3)
        let weights = try ChannelWeights.measure(memory)
        let dms = [0, 30.5, 61, 117.3]
        // Downsampled, the file is read as floats (the byte path sums no spectra): same bits too.
        for downsample in [1, 2] {
            var results: [[Float]] = []
            for source in [file as SpectrumSource, memory] {
                let d = SubbandDedisperser(source: source, weights: weights, subbands: 8)
                // Several chunks, the rows moved on between them.
                d.chunkLength = 700
                results.append(try d.dedisperse(dms: dms, downsample: downsample).data)
            }
            #expect(results[0].count == dms.count * (spectra / downsample))
            #expect(results[0] == results[1], "downsample \(downsample)")
        }
    }

    @Test("an input shorter than the lag, a subband with no weighted channel, and streamed chunks shorter than the lag")
    func shortInputsAndStreaming() throws {
        var rng = SeededGenerator(seed: 4242)
        let nch = 48
        let freqs = (0..<nch).map { 1500 - 6 * Double($0) }
        let dms = [0, 12.5, 80, 151, 150.2]
        for spectra in [400, 2500] {
            let data = (0..<(nch * spectra)).map { k in Float(Double(k % nch) + (1 + Double(k % 7)) * rng.gaussian()) }
            let source = InMemorySpectra(data: data, channelFrequencies: freqs, sampleTime: 2.5e-4)
            var weights = try ChannelWeights.measure(source)
            // Subband 3 of 8 (channels 18-23) wholly masked: its series must stay zero.
            for c in 18..<24 { weights.weights[c] = 0 }
            let d = SubbandDedisperser(source: source, weights: weights, subbands: 8)
            let lag = d.channelShifts(dms: dms, downsample: 1).map { $0.max()! }.max()!
            #expect(lag > 400, "the lag (\(lag)) should exceed the short input")
            let expected = Self.bruteForce(source, weights, shifts: d.channelShifts(dms: dms, downsample: 1), downsample: 1)
            for chunk in [50, 1000] {
                d.chunkLength = chunk
                let block = try d.dedisperse(dms: dms, downsample: 1)
                var worst = 0.0
                for i in dms.indices { for t in 0..<spectra { worst = max(worst, abs(Double(block.data[i * spectra + t]) - expected[i][t])) } }
                #expect(worst < 2e-3, "\(spectra) spectra, chunk \(chunk): worst \(worst)")
                // Streamed: the same values, handed over in time order, every sample once.
                var streamed = [Float](repeating: .nan, count: dms.count * spectra)
                var next = 0
                try d.stream(dms: dms, downsample: 1) { piece in
                    #expect(piece.start == next && piece.count > 0)
                    for i in dms.indices { for t in 0..<piece.count { streamed[i * spectra + piece.start + t] = piece.series(i)[t] } }
                    next = piece.start + piece.count
                }
                #expect(next == spectra)
                #expect(streamed == block.data, "\(spectra) spectra, chunk \(chunk)")
            }
        }
    }
}
