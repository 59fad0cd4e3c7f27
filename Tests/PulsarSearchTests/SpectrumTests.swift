import CSearchKernels
import Foundation
import PulsarSearch
import Testing

@Suite("Spectrum: whitening, harmonic sums, interpolation")
struct SpectrumTests {
    @Test("vector and scalar harmonic-sum kernels agree with the definition", arguments: [1, 2, 4, 8, 16])
    func harmonicKernels(n: Int) {
        let count = 4096
        var rng = SeededGenerator(seed: UInt64(n))
        let powers = (0..<(count + 16)).map { _ in Float(-log(rng.uniform())) }
        let prev = (0..<(count + 16)).map { _ in Float(rng.uniform() * 10) }
        var fast = [Float](repeating: 0, count: count), slow = fast
        var kFast = [Int64](repeating: 0, count: 64), kSlow = kFast
        var vFast = [Float](repeating: 0, count: 64), vSlow = vFast
        let threshold = Float(n) + 12
        let nFast = xx_harmonic_stage(powers, prev, &fast, count, Int32(n), threshold, 10, &kFast, &vFast, 64)
        let nSlow = xx_harmonic_stage_scalar(powers, prev, &slow, count, Int32(n), threshold, 10, &kSlow, &vSlow, 64)
        for k in 0..<count {
            var expected = prev[k]
            for j in stride(from: 1, to: 2 * n, by: 2) { expected += powers[(j * k + n) / (2 * n)] }
            #expect(abs(fast[k] - expected) <= 1e-4 * max(1, expected))
            #expect(abs(slow[k] - expected) <= 1e-4 * max(1, expected))
        }
        #expect(nFast == nSlow)
        #expect(Array(kFast.prefix(min(nFast, 64))) == Array(kSlow.prefix(min(nSlow, 64))))
        let expectedCrossings = (10..<count).filter { slow[$0] > threshold }.count
        #expect(nSlow == expectedCrossings)
    }

    /// S_N[k] = sum over h = 1...N of P[round(h k / N)], round(x) = floor(x + 1/2) as PRESTO rounds a
    /// harmonic's fractional bin: computed term by term on powers that differ at every bin.
    @Test("harmonic sums equal the brute-force sum of P(round(h k / N)) at every bin", arguments: [1, 2, 4, 8, 16, 32])
    func harmonicSumsAgainstBruteForce(harmonics: Int) {
        let bins = 50_000 + 3
        var rng = SeededGenerator(seed: 100 + UInt64(harmonics))
        let powers = (0..<(bins + HarmonicSummer.padding)).map { _ in Float(-log(rng.uniform()) * (0.2 + 5 * rng.uniform())) }
        let summer = HarmonicSummer()
        summer.blockBins = 1000  // several blocks, and blocks that are not powers of two
        let sums = powers.withUnsafeBufferPointer { summer.sums(powers: $0, bins: bins, harmonics: harmonics) }
        #expect(sums.count == (harmonics == 1 ? bins : bins / 8 * 8))
        var worst = 0.0
        for k in 0..<sums.count {
            var expected = 0.0
            for h in 1...harmonics { expected += Double(powers[(2 * h * k + harmonics) / (2 * harmonics)]) }
            worst = max(worst, abs(Double(sums[k]) - expected) / max(1, expected))
        }
        #expect(worst < 1e-5, "largest relative error \(worst)")
    }

    @Test("each harmonic of a 16-harmonic sum is counted exactly once")
    func harmonicWeights() {
        let bins = 40_000, f0 = 1000
        var weights: [Float] = []
        let summer = HarmonicSummer()
        for h in 1...16 {
            var powers = [Float](repeating: 0, count: bins + HarmonicSummer.padding)
            powers[h * f0] = 1
            let sums = powers.withUnsafeBufferPointer { summer.sums(powers: $0, bins: bins, harmonics: 16) }
            weights.append(sums[16 * f0])
        }
        #expect(weights == [Float](repeating: 1, count: 16), "weights \(weights)")
    }

    @Test("blocked harmonic summing finds the same peaks at any block size", arguments: [1, 2, 8, 64, 1 << 20])
    func blockedSumming(block: Int) {
        let bins = 100_003
        var rng = SeededGenerator(seed: 17)
        var powers = (0..<(bins + HarmonicSummer.padding)).map { k in k < bins ? Float(-log(rng.uniform())) : 0 }
        for h in 1...16 { powers[h * 4567] += 30 }  // a pulsar with fundamental at bin 4567
        let thresholds: [Float] = [14, 18, 24, 34, 52]
        func peaks(_ width: Int) -> [HarmonicPeak] {
            let summer = HarmonicSummer()
            summer.blockBins = width
            return powers.withUnsafeBufferPointer { summer.search(powers: $0, bins: bins, thresholds: thresholds, lowestBin: 3) }
        }
        let reference = peaks(1 << 20)  // one block: every stage over the whole spectrum
        #expect(reference.contains { $0.harmonics == 16 && abs($0.fundamentalBin - 4567) < 0.1 })
        #expect(peaks(block) == reference)
    }

    @Test("xx_median equals the middle of the sorted values, ties and even counts included")
    func exactMedian() {
        var rng = SeededGenerator(seed: 41)
        var scratch = [Float](repeating: 0, count: 5000)
        for trial in 0..<400 {
            let n = trial < 10 ? trial + 1 : 1 + Int(rng.next() % 4000)
            // Every fourth trial draws from a few values only, so ties are common.
            // Every 7th is sorted and every 11th reversed, so that a sample of the block misjudges
            // where its middle lies (a median found only by sampling would be wrong there).
            var values = (0..<n).map { _ in trial % 4 == 0 ? Float(rng.next() % 5) : Float(-log(rng.uniform())) }
            if trial % 7 == 3 { values.sort() }
            if trial % 11 == 5 { values.sort(by: >) }
            if trial % 13 == 6 { values = values.enumerated().map { $0.offset < n / 3 ? $0.element + 100 : $0.element } }
            let sorted = values.sorted()
            let expected = n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2])
            let before = values
            let m = values.withUnsafeBufferPointer { xx_median($0.baseAddress!, n, &scratch) }
            #expect(m == expected, "n = \(n): \(m) != \(expected)")
            #expect(values == before)
        }
    }

    @Test("whitening divides each power by the interpolated block median / ln 2, streamed or not")
    func whiteningDefinition() {
        let bins = 200_001
        var rng = SeededGenerator(seed: 5)
        let complex = (0..<(2 * bins)).map { i in Float(rng.gaussian() * (1 + 300 / Double(i / 2 + 1))) }
        var raw = [Float](repeating: 0, count: bins)
        complex.withUnsafeBufferPointer { c in raw.withUnsafeMutableBufferPointer { xx_powers(c.baseAddress!, $0.baseAddress!, bins) } }
        let a = SpectrumWhitener(), b = SpectrumWhitener()
        var separate = raw, fused = [Float](repeating: 0, count: bins)
        separate.withUnsafeBufferPointer { a.estimate($0) }
        separate.withUnsafeMutableBufferPointer { a.normalize($0) }
        complex.withUnsafeBufferPointer { c in fused.withUnsafeMutableBufferPointer { b.whiten(powersOf: c.baseAddress!, into: $0) } }
        #expect(fused == separate)

        // Blocks tile 1 ..< bins, widen with frequency within the limits, and their medians are
        // the exact medians of the raw powers.
        let blocks = SpectrumWhitener.blocks(bins: bins)
        #expect(blocks.first?.lowerBound == 1 && blocks.last?.upperBound == bins)
        #expect(zip(blocks, blocks.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound && $0.count <= $1.count })
        #expect(blocks.dropLast().allSatisfy { $0.count >= SpectrumWhitener.minimumWidth && $0.count <= SpectrumWhitener.maximumWidth })
        for block in blocks {
            let sorted = raw[block].sorted(), n = sorted.count
            let median = n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2])
            let centre = Double(block.lowerBound + block.upperBound - 1) / 2
            if centre == centre.rounded() {
                #expect(b.median(atBin: Int(centre)) == median, "block \(block)")
            }
            // Between centres the median is interpolated, so it lies between neighbouring medians.
        }
        var worst: Float = 0
        for k in 1..<bins {
            let expected = raw[k] * 0.693147180559945 / b.median(atBin: k)
            worst = max(worst, abs(fused[k] - expected) / max(expected, 1e-3))
        }
        #expect(worst < 1e-5, "largest relative difference \(worst)")
        #expect(fused[0] == 0)
    }

    /// Spectra of `bins` exponential powers with mean `shape(k)`, whitened; returns the mean of the
    /// normalised powers and the fraction above 10 over all bins from 1.
    private func whitenedStatistics(shape: (Int) -> Double, seed: UInt64) -> (mean: Double, tail: Double) {
        let bins = 1 << 21, spectra = 8
        let whitener = SpectrumWhitener()
        var sum = 0.0, above = 0, total = 0
        var powers = [Float](repeating: 0, count: bins)
        let scale = (0..<bins).map { Float(shape(max($0, 1))) }
        for s in 0..<spectra {
            var rng = SeededGenerator(seed: seed &+ UInt64(s))
            powers.withUnsafeMutableBufferPointer { p in
                for k in 1..<bins { p[k] = Float(-log(rng.uniform())) * scale[k] }
            }
            powers.withUnsafeBufferPointer { whitener.estimate($0) }
            powers.withUnsafeMutableBufferPointer { whitener.normalize($0) }
            for k in 1..<bins {
                sum += Double(powers[k])
                if powers[k] > 10 { above += 1 }
            }
            total += bins - 1
        }
        return (sum / Double(total), Double(above) / Double(total))
    }

    @Test("whitened noise is exponential with unit mean: white, 1/f and 1/f^2 red noise",
          arguments: [("white", 0.0), ("1/f", 1.0), ("1/f^2", 2.0)])
    func whiteningStatistics(name: String, index: Double) {
        // 1.7e7 bins: about 760 above 10, so the tail fraction is known to 3.6%.
        let (mean, tail) = whitenedStatistics(shape: { k in 1 + 1e5 * pow(Double(k), -index) * (index > 0 ? 1 : 0) }, seed: 900)
        #expect(abs(mean - 1) < 0.01, "\(name): mean \(mean)")
        #expect(abs(tail / exp(-10) - 1) < 0.1, "\(name): P(>10) = \(tail), e^-10 = \(exp(-10.0)), ratio \(tail / exp(-10))")
    }

    @Test("Fourier interpolation recovers power between bins")
    func interpolation() {
        let n = 1 << 14
        let plan = SearchFixtures.planner.plan(size: n)
        let ws = FFTWorkspace(size: n)
        let r0 = 1000.5  // half-way between bins: the worst case
        for i in 0..<n { ws.real[i] = Float(cos(2 * Double.pi * r0 * Double(i) / Double(n))) }
        plan.execute(input: ws.real, output: ws.complex)
        let interpolator = FourierInterpolator(spectrum: UnsafePointer(ws.complex), count: n / 2 + 1)
        let full = Double(n * n) / 4  // power of a unit cosine exactly on a bin
        let onBin = max(interpolator.power(at: 1000), interpolator.power(at: 1001))
        let between = interpolator.power(at: r0)
        #expect(onBin / full < 0.45)
        #expect(abs(between / full - 1) < 0.03)
    }

    @Test("a sinusoid in noise is found at its frequency with the right significance scale")
    func periodicitySearch() {
        let tsamp = 1e-3
        let n = 1 << 16
        var rng = SeededGenerator(seed: 9)
        let f0 = 37.123
        let samples = (0..<n).map { i in Float(rng.gaussian() + 0.05 * cos(2 * Double.pi * f0 * Double(i) * tsamp)) }
        var parameters = SpectralSearchParameters()
        parameters.maxHarmonics = 1
        let searcher = PeriodicitySearcher(planner: SearchFixtures.planner, parameters: parameters)
        let found = samples.withUnsafeBufferPointer { searcher.search(samples: $0, tsamp: tsamp) }
        let best = try! #require(found.first)
        #expect(abs(best.frequency - f0) < 0.1 / (Double(n) * tsamp))
        // Expected normalised power: (A^2 N / 4) / (sigma^2 N / ... ) = A^2 N / 4 for unit noise.
        let expected = 0.05 * 0.05 * Double(n) / 4
        #expect(abs(best.power - expected) / expected < 0.25)
        #expect(best.sigma > 5.5)
    }

    @Test("birdies are zapped")
    func zapping() {
        let tsamp = 1e-3
        let n = 1 << 16
        var rng = SeededGenerator(seed: 10)
        let samples = (0..<n).map { i in Float(rng.gaussian() + 0.2 * cos(2 * Double.pi * 50 * Double(i) * tsamp)) }
        var parameters = SpectralSearchParameters()
        let plain = PeriodicitySearcher(planner: SearchFixtures.planner, parameters: parameters)
        #expect(samples.withUnsafeBufferPointer { plain.search(samples: $0, tsamp: tsamp) }.contains { abs($0.frequency - 50) < 0.1 })
        parameters.birdies = [Birdie(frequency: 50, width: 0.1, harmonics: 4)]
        let zapped = PeriodicitySearcher(planner: SearchFixtures.planner, parameters: parameters)
        #expect(samples.withUnsafeBufferPointer { zapped.search(samples: $0, tsamp: tsamp) }.isEmpty)
    }
}
