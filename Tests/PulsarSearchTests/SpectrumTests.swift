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

    @Test("streamed whitening matches the separate passes")
    func fusedWhitening() {
        let bins = 200_001
        var rng = SeededGenerator(seed: 5)
        let complex = (0..<(2 * bins)).map { i in Float(rng.gaussian() * (1 + 300 / Double(i / 2 + 1))) }
        var separate = [Float](repeating: 0, count: bins), fused = separate
        let a = SpectrumWhitener(), b = SpectrumWhitener()
        complex.withUnsafeBufferPointer { c in
            separate.withUnsafeMutableBufferPointer { p in
                xx_powers(c.baseAddress!, p.baseAddress!, bins)
                a.estimate(UnsafeBufferPointer(p))
            }
            fused.withUnsafeMutableBufferPointer { b.whiten(powersOf: c.baseAddress!, into: $0) }
        }
        #expect(stride(from: 0, to: bins + 64, by: 7).allSatisfy { a.median(atBin: $0) == b.median(atBin: $0) })
        // The normalisation: a running sum of the scale across each 32-bin segment.
        var expected = separate
        let ln2: Float = 0.693147180559945
        for start in stride(from: 0, to: bins, by: SpectrumWhitener.segment) {
            let m0 = a.median(atBin: start), m1 = a.median(atBin: start + SpectrumWhitener.segment)
            let s0: Float = m0 > 0 ? ln2 / m0 : 0, s1: Float = m1 > 0 ? ln2 / m1 : 0
            let ds = (s1 - s0) / Float(SpectrumWhitener.segment)
            var s = s0
            for k in start..<min(bins, start + SpectrumWhitener.segment) { expected[k] *= s; s += ds }
        }
        expected[0] = 0
        let mismatch = (0..<bins).first { fused[$0] != expected[$0] }
        #expect(mismatch == nil, "first difference at \(mismatch ?? -1) of \(bins): \(mismatch.map { (fused[$0], expected[$0], separate[$0]) }.debugDescription)")
        separate.withUnsafeMutableBufferPointer { a.normalize($0) }
        #expect(separate == expected)
    }

    @Test("whitening turns red noise into unit-mean exponential powers")
    func whitening() {
        let bins = 1 << 18
        var rng = SeededGenerator(seed: 3)
        var powers = [Float](repeating: 0, count: bins)
        for k in 1..<bins {
            let red = 1 + 400 / pow(Double(k), 1.2)  // steep red noise at low frequencies
            powers[k] = Float(-log(rng.uniform()) * red * 7)
        }
        let whitener = SpectrumWhitener()
        powers.withUnsafeBufferPointer { whitener.estimate($0) }
        powers.withUnsafeMutableBufferPointer { whitener.normalize($0) }
        for range in [200..<2000, 5000..<20000, 100_000..<bins] {
            let slice = powers[range]
            let mean = slice.reduce(0, +) / Float(slice.count)
            let tail = Float(slice.filter { $0 > 5 }.count) / Float(slice.count)
            #expect(abs(mean - 1) < 0.06, "mean \(mean) over \(range)")
            #expect(abs(tail - exp(-5)) < 0.003, "P(>5) \(tail) over \(range)")
        }
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
