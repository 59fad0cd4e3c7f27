import Foundation
import PulsarSearch
import Testing

/// The proof-of-work toplist and the single-bin DFT that checks it, against brute force.
@Suite("Toplists and single-bin DFT")
struct ToplistTests {
    /// X(r) by the definition, one sine and cosine per sample, the angle reduced exactly for whole r.
    static func naiveDFT(_ x: [Float], length: Int, bin r: Double) -> (Double, Double) {
        var re = 0.0, im = 0.0
        for (j, v) in x.enumerated() {
            let angle: Double
            if r == r.rounded() {
                angle = -2 * Double.pi * Double((Int(r) * j) % length) / Double(length)
            } else {
                angle = -2 * Double.pi * r * Double(j) / Double(length)
            }
            re += Double(v) * cos(angle)
            im += Double(v) * sin(angle)
        }
        return (re, im)
    }

    /// Red noise, white noise and a pulse train whose harmonics all differ in strength.
    static func series(count: Int, seed: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        var walk = 0.0
        let period = 37.3 + Double(seed % 7)
        return (0..<count).map { j in
            walk = 0.999 * walk + 0.05 * rng.gaussian()
            let phase = (Double(j) / period).truncatingRemainder(dividingBy: 1)
            let pulse = 0.8 * exp(-pow((phase - 0.3) / 0.02, 2)) + 0.3 * exp(-pow((phase - 0.6) / 0.07, 2))
            return Float(rng.gaussian() + walk + pulse + 3)
        }
    }

    @Test("single-bin DFT equals the definition at whole and fractional bins, padded, on ten seeds")
    func singleBinAgainstDefinition() {
        for seed in 1...10 as ClosedRange<UInt64> {
            let x = Self.series(count: 3001 + Int(seed) * 17, seed: seed)
            let length = 4096 + Int(seed) * 3
            var rng = SeededGenerator(seed: seed + 100)
            for trial in 0..<12 {
                let whole = Double(Int(rng.uniform() * Double(length / 2)))
                let r = trial % 3 == 0 ? whole + rng.uniform() : whole
                let (re, im) = x.withUnsafeBufferPointer { SingleBinDFT.transform($0, length: length, bin: r) }
                let (nr, ni) = Self.naiveDFT(x, length: length, bin: r)
                let scale = max(1, (nr * nr + ni * ni).squareRoot())
                #expect(abs(re - nr) / scale < 1e-9 && abs(im - ni) / scale < 1e-9, "seed \(seed) bin \(r): \(re),\(im) vs \(nr),\(ni)")
            }
        }
    }

    @Test("single-bin DFT equals FFTW's transform of 2^20 samples within single-precision rounding")
    func singleBinAgainstFFTW() {
        let n = 1 << 20
        var x = Self.series(count: n, seed: 42)
        let mean = x.reduce(0, +) / Float(n)
        for i in x.indices { x[i] -= mean }
        let ws = FFTWorkspace(size: n)
        x.withUnsafeBufferPointer { ws.real.update(from: $0.baseAddress!, count: n) }
        SearchFixtures.planner.plan(size: n).execute(input: ws.real, output: ws.complex)
        var rng = SeededGenerator(seed: 7)
        var worst = 0.0
        for _ in 0..<16 {
            let k = 1 + Int(rng.uniform() * Double(n / 2 - 2))
            let fftw = Double(ws.complex[2 * k]) * Double(ws.complex[2 * k]) + Double(ws.complex[2 * k + 1]) * Double(ws.complex[2 * k + 1])
            let mine = x.withUnsafeBufferPointer { SingleBinDFT.power($0, length: n, bin: Double(k)) }
            worst = max(worst, abs(mine - fftw) / max(mine, Double(n)))
        }
        #expect(worst < 1e-4, "largest relative difference \(worst)")
    }

    @Test("a search's toplist is the brute-force top N of its whitened spectrum, with the powers of those bins",
          arguments: [(0.0, 5000), (0.0, 8192), (25.0, 6000)])
    func toplistAgainstBruteForce(acceleration: Double, count: Int) {
        for seed in 1...4 as ClosedRange<UInt64> {
            let x = Self.series(count: count, seed: seed)
            var parameters = SpectralSearchParameters()
            parameters.toplistSize = 9
            parameters.minFrequency = 0.5
            let tsamp = 0.001
            let searcher = PeriodicitySearcher(planner: SearchFixtures.planner, parameters: parameters)
            _ = x.withUnsafeBufferPointer { searcher.search(samples: $0, tsamp: tsamp, acceleration: acceleration) }
            let toplist = searcher.lastToplist

            // Brute force: prepare, transform, whiten, sort every searched bin.
            let size = PeriodicitySearcher.fftSize(forSamples: count)
            var prepared = [Float](repeating: 0, count: size)
            x.withUnsafeBufferPointer { xs in
                prepared.withUnsafeMutableBufferPointer { PeriodicitySearcher.prepare(xs, tsamp: tsamp, acceleration: acceleration, into: $0) }
            }
            let ws = FFTWorkspace(size: size)
            prepared.withUnsafeBufferPointer { ws.real.update(from: $0.baseAddress!, count: size) }
            SearchFixtures.planner.plan(size: size).execute(input: ws.real, output: ws.complex)
            let bins = size / 2
            var whitened = [Float](repeating: 0, count: bins)
            whitened.withUnsafeMutableBufferPointer { SpectrumWhitener().whiten(powersOf: ws.complex, into: $0) }
            let lowest = Int((0.5 * Double(size) * tsamp).rounded(.up))
            let expected = (lowest..<bins).sorted { whitened[$0] != whitened[$1] ? whitened[$0] > whitened[$1] : $0 < $1 }.prefix(9)

            #expect(toplist.isConsistent && toplist.count == 9)
            #expect(toplist.bins == Array(expected), "seed \(seed): \(toplist.bins) vs \(Array(expected))")
            #expect(toplist.powers == expected.map { whitened[$0] })
            for (k, reported) in zip(toplist.bins, toplist.fourierPowers) {
                let checked = prepared.withUnsafeBufferPointer { SingleBinDFT.power($0, length: size, bin: Double(k)) }
                #expect(abs(checked - reported) / checked < 1e-4, "seed \(seed) bin \(k): \(reported) vs \(checked)")
            }
        }
    }

    @Test("ties in power go to the lower bin; a list longer than the spectrum holds every bin")
    func ties() {
        let ws = FFTWorkspace(size: 64)
        for k in 0..<33 { ws.complex[2 * k] = Float(k % 4); ws.complex[2 * k + 1] = 0 }
        var powers = [Float](repeating: 0, count: 32)
        for k in 0..<32 { powers[k] = Float(k % 4) }
        let top = powers.withUnsafeBufferPointer { SpectrumToplist.select(powers: $0, range: 1..<32, count: 3, complex: ws.complex) }
        #expect(top.bins == [3, 7, 11])
        #expect(top.fourierPowers == [9, 9, 9])
        let all = powers.withUnsafeBufferPointer { SpectrumToplist.select(powers: $0, range: 30..<32, count: 5, complex: ws.complex) }
        #expect(all.bins == [31, 30])
    }
}
