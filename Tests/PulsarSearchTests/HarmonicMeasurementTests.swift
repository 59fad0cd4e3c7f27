import CSearchKernels
import Foundation
@testable import PulsarSearch
import Testing

/// Each harmonic of a detection measured on its own: the Fourier amplitude between bins against a
/// brute-force DFT, power, phase, centroid and purity against signals whose answers are known, and
/// the search filling them in.
@Suite("Harmonic measurements: amplitude between bins, per-harmonic power and phase, centroid and purity")
struct HarmonicMeasurementTests {
    /// The DFT of `x` at fractional bin `r`, summed directly in doubles.
    static func bruteForce(_ x: [Double], at r: Double) -> (re: Double, im: Double) {
        var re = 0.0, im = 0.0
        let n = Double(x.count)
        for (i, v) in x.enumerated() {
            let angle = -2 * Double.pi * r * Double(i) / n
            re += v * cos(angle)
            im += v * sin(angle)
        }
        return (re, im)
    }

    /// The half spectrum of `x` (interleaved re, im), by direct DFT.
    static func spectrum(_ x: [Double]) -> [Float] {
        (0..<x.count / 2).flatMap { m -> [Float] in
            let (re, im) = bruteForce(x, at: Double(m))
            return [Float(re), Float(im)]
        }
    }

    static func wrapped(_ a: Double) -> Double {
        var a = a.truncatingRemainder(dividingBy: 2 * .pi)
        if a > .pi { a -= 2 * .pi } else if a <= -.pi { a += 2 * .pi }
        return a
    }

    /// `harmonics` sinusoids at `h r0` bins with unequal amplitudes and phases, present where
    /// `on` says, plus white noise of `noise` rms.
    static func signal(n: Int, r0: Double, amplitudes: [Double], phases: [Double], noise: Double, seed: UInt64,
                       on: (Int) -> Bool = { _ in true }) -> [Double] {
        var rng = SeededGenerator(seed: seed)
        return (0..<n).map { i in
            var v = noise * rng.gaussian()
            guard on(i) else { return v }
            for (h, (a, p)) in zip(amplitudes, phases).enumerated() {
                v += a * cos(2 * .pi * Double(h + 1) * r0 * Double(i) / Double(n) + p)
            }
            return v
        }
    }

    @Test("amplitude between bins: within 3% of the brute-force DFT near a signal, in power and phase, on random unequal signals", arguments: [1, 2, 3])
    func amplitudeAgainstBruteForce(seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        let n = 2048
        let r0 = 100 + rng.uniform() * 300
        let amplitudes = (0..<3).map { _ in 0.2 + rng.uniform() }, phases = (0..<3).map { _ in rng.uniform() * 2 * .pi }
        let x = Self.signal(n: n, r0: r0, amplitudes: amplitudes, phases: phases, noise: 0.3, seed: seed + 10)
        let spectrum = Self.spectrum(x)
        spectrum.withUnsafeBufferPointer { s in
            let interpolator = FourierInterpolator(spectrum: s.baseAddress!, count: n / 2)
            for h in 1...3 {
                for _ in 0..<5 {
                    let r = Double(h) * r0 + (rng.uniform() - 0.5) * 0.8
                    let got = interpolator.amplitude(at: r), want = Self.bruteForce(x, at: r)
                    let wantAbs = (want.re * want.re + want.im * want.im).squareRoot()
                    let diff = ((got.re - want.re) * (got.re - want.re) + (got.im - want.im) * (got.im - want.im)).squareRoot()
                    #expect(diff <= 0.03 * wantAbs, "r \(r): \(got) vs \(want)")
                    #expect(abs(interpolator.power(at: r) - (got.re * got.re + got.im * got.im)) <= 1e-9 * wantAbs * wantAbs)
                }
            }
            // A whole bin is the bin's own value.
            let k = Int(r0.rounded())
            #expect(interpolator.amplitude(at: Double(k)) == (Double(s[2 * k]), Double(s[2 * k + 1])))
        }
    }

    @Test("the Fourier sum kernel: AVX2 against the scalar loop and a plain double sum, on random spectra, every length 1-40 and random r")
    func fourierSumKernel() {
        var rng = SeededGenerator(seed: 70)
        let bins = 300
        let x = (0..<(2 * bins)).map { _ in Float(rng.gaussian() * (1 + 50 * rng.uniform())) }
        x.withUnsafeBufferPointer { p in
            for length in 1...40 {
                for _ in 0..<5 {
                    let lo = Int(rng.uniform() * Double(bins - length)), hi = lo + length - 1
                    let r = Double(lo) + rng.uniform() * Double(length) + 0.0137
                    var plainRe = 0.0, plainIm = 0.0, scale = 0.0
                    for m in lo...hi {
                        let w = 1 / (Double(m) - r)
                        plainRe += Double(p[2 * m]) * w
                        plainIm += Double(p[2 * m + 1]) * w
                        scale += (abs(Double(p[2 * m])) + abs(Double(p[2 * m + 1]))) * abs(w)
                    }
                    var re = 0.0, im = 0.0, sre = 0.0, sim = 0.0
                    xx_fourier_sum(p.baseAddress!, lo, hi, r, &re, &im)
                    xx_fourier_sum_scalar(p.baseAddress!, lo, hi, r, &sre, &sim)
                    #expect(sre == plainRe && sim == plainIm, "scalar, length \(length)")
                    #expect(abs(re - plainRe) <= 1e-13 * scale && abs(im - plainIm) <= 1e-13 * scale, "length \(length): \(re) vs \(plainRe)")
                }
            }
        }
    }

    @Test("a steady signal: each harmonic's own power and phase, in order, centroid 0.5 and purity 1", arguments: [4, 5, 6])
    func steadyHarmonics(seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        let n = 4096, noise = 0.5
        let r0 = 60 + rng.uniform() * 100
        // Unequal, in a random order, far enough apart that noise cannot swap them: a measurement
        // that read the fundamental for every harmonic, or the harmonics out of order, cannot pass.
        let amplitudes = [0.12, 0.2, 0.28, 0.36, 0.44].shuffled(using: &rng), phases = (0..<5).map { _ in rng.uniform() * 2 * .pi - .pi }
        let x = Self.signal(n: n, r0: r0, amplitudes: amplitudes, phases: phases, noise: noise, seed: seed + 20)
        let spectrum = Self.spectrum(x)
        let measured = spectrum.withUnsafeBufferPointer { s in
            HarmonicMeasurement.measure(fundamental: r0, count: 5, interpolator: FourierInterpolator(spectrum: s.baseAddress!, count: n / 2),
                                        localPower: { _ in Double(n) * noise * noise })
        }
        #expect(measured.count == 5)
        for (h, m) in measured.enumerated() {
            // A sinusoid of amplitude a gives |X|^2 = (a N / 2)^2 against noise N sigma^2.
            let expected = pow(amplitudes[h] * Double(n) / 2, 2) / (Double(n) * noise * noise)
            let tolerance = 4 * (2 * expected).squareRoot() + 2  // the noise's own spread
            #expect(abs(m.power - expected) <= tolerance, "harmonic \(h + 1): \(m.power) vs \(expected)")
            #expect(abs(m.rawPower - m.power * Double(n) * noise * noise) <= 1.1e-4 * m.rawPower)  // both kept to 5 digits
            // Within 4 of the standard error of r (Middleditch et al.), 3 / (pi sqrt(6 P)).
            #expect(abs(m.r - Double(h + 1) * r0) <= 4 * 3 / (Double.pi * (6 * m.power).squareRoot()), "harmonic \(h + 1) at \(m.r), predicted \(Double(h + 1) * r0)")
            #expect(abs(Self.wrapped(m.phase - phases[h])) <= 4 / m.power.squareRoot(), "harmonic \(h + 1) phase \(m.phase) vs \(phases[h])")
            // Within 4 of their standard errors (Middleditch et al.): 1/sqrt(24 P) and 1/sqrt(10 P).
            #expect(abs(m.centroid - 0.5) <= 4 / (24 * m.power).squareRoot() + 0.01
                    && abs(m.purity - 1) <= 4 / (10 * m.power).squareRoot() + 0.02, "harmonic \(h + 1): centroid \(m.centroid), purity \(m.purity)")
        }
        let order = measured.indices.sorted { measured[$0].power > measured[$1].power }
        #expect(order == amplitudes.indices.sorted { amplitudes[$0] > amplitudes[$1] })
    }

    @Test("a signal present in one half: centroid 0.25 or 0.75, purity 0.5")
    func halfObservation() {
        let n = 4096
        for (half, centroid) in [(0, 0.25), (1, 0.75)] {
            let x = Self.signal(n: n, r0: 123.4, amplitudes: [0.5], phases: [1], noise: 0.2, seed: 30) { ($0 < n / 2) == (half == 0) }
            let spectrum = Self.spectrum(x)
            let m = spectrum.withUnsafeBufferPointer { s in
                HarmonicMeasurement.measure(fundamental: 123.4, count: 1, interpolator: FourierInterpolator(spectrum: s.baseAddress!, count: n / 2),
                                            localPower: { _ in Double(n) * 0.04 })
            }
            #expect(m.count == 1)
            // Within 4 standard errors (1/sqrt(24 P), 1/(q sqrt(10 P))) and the 64-bin sum's bias.
            let p = m[0].power
            #expect(abs(m[0].centroid - centroid) <= 4 / (24 * p).squareRoot() + 0.01
                    && abs(m[0].purity - 0.5) <= 4 / (0.5 * (10 * p).squareRoot()) + 0.02, "\(m[0])")
        }
    }

    @Test("coherent power: harmonics in a pulse's phases add their amplitudes; one turned by pi subtracts")
    func coherentPower() {
        var rng = SeededGenerator(seed: 40)
        for _ in 0..<20 {
            let powers = (0..<6).map { _ in 1 + 50 * rng.uniform() }
            let p0 = rng.uniform() * 2 * .pi - .pi
            let aligned = powers.enumerated().map { h, p in
                HarmonicMeasurement(power: p, rawPower: p, r: 0, phase: Self.wrapped(Double(h + 1) * p0), centroid: 0.5, purity: 1)
            }
            let sum = powers.map { $0.squareRoot() }.reduce(0, +)
            // Powers are kept to 5 digits and phases to 1e-4 rad.
            #expect(abs(HarmonicMeasurement.coherentPower(aligned) - sum * sum) <= 1e-3 * sum * sum)
            var flipped = aligned
            flipped[2].phase = Self.wrapped(flipped[2].phase + .pi)
            let less = sum - 2 * powers[2].squareRoot()
            #expect(abs(HarmonicMeasurement.coherentPower(flipped) - less * less) <= 1e-3 * sum * sum)
        }
        #expect(HarmonicMeasurement.coherentPower([]) == 0)
    }

    @Test("kept to the digits that matter: a work unit's candidates read back from JSON exactly, in about 100 bytes a harmonic")
    func compactAndExact() throws {
        var rng = SeededGenerator(seed: 60)
        var candidate = SeriesCandidate(frequency: 123.456789, harmonics: 16, power: 300, sigma: 9, acceleration: 0, dm: 10, dmIndex: 3)
        candidate.harmonicMeasurements = (1...16).map { h in
            HarmonicMeasurement(power: rng.uniform() * 100, rawPower: rng.uniform() * 1e7, r: 8_000_000 * rng.uniform() + Double(h),
                                phase: (rng.uniform() * 2 - 1) * .pi, centroid: rng.uniform(), purity: rng.uniform())
        }
        let m = candidate.harmonicMeasurements![3]
        #expect(m.power == HarmonicMeasurement.significant(m.power, 5) && abs(m.r - (m.r * 1e4).rounded() / 1e4) == 0)
        let data = try JSONEncoder().encode(candidate)
        #expect(try JSONDecoder().decode(SeriesCandidate.self, from: data) == candidate)
        var bare = candidate
        bare.harmonicMeasurements = nil
        let perHarmonic = Double(data.count - (try JSONEncoder().encode(bare)).count) / 16
        #expect(perHarmonic <= 110, "\(perHarmonic) bytes a harmonic")
        #expect(HarmonicMeasurement.significant(123_456.7, 5) == 123_460 && HarmonicMeasurement.significant(-0.000123456, 3) == -0.000123)
    }

    @Test("the search measures every summed harmonic of what it reports, each near its own power")
    func searchFillsThemIn() throws {
        let tsamp = 1e-3, n = 1 << 15
        let f0 = 7.3125 + 0.37 / (Double(n) * tsamp)
        let amplitudes = [0.08, 0.04, 0.06, 0.02], phases = [0.3, 2.0, -1.2, 2.9]
        var rng = SeededGenerator(seed: 50)
        let samples = (0..<n).map { i -> Float in
            var v = rng.gaussian()
            for (h, (a, p)) in zip(amplitudes, phases).enumerated() { v += a * cos(2 * .pi * Double(h + 1) * f0 * Double(i) * tsamp + p) }
            return Float(v)
        }
        var parameters = SpectralSearchParameters()
        parameters.maxHarmonics = 4
        let searcher = PeriodicitySearcher(planner: SearchFixtures.planner, parameters: parameters)
        let found = samples.withUnsafeBufferPointer { searcher.search(samples: $0, tsamp: tsamp) }
        let best = try #require(found.first { abs($0.frequency - f0) < 0.5 / (Double(n) * tsamp) })
        let measured = try #require(best.harmonicMeasurements)
        #expect(measured.count == best.harmonics && best.harmonics >= 2)
        for (h, m) in measured.enumerated() {
            let expected = amplitudes[h] * amplitudes[h] * Double(n) / 4
            #expect(abs(m.power - expected) <= 4 * (2 * expected).squareRoot() + 3, "harmonic \(h + 1): \(m.power) vs \(expected)")
            #expect(abs(m.r - Double(h + 1) * best.frequency * Double(n) * tsamp) <= 0.5)
        }
        // Each harmonic maximised on its own sums to at least the detection's interpolated power.
        let total = measured.map(\.power).reduce(0, +)
        #expect(total >= 0.99 * best.power && total <= 1.3 * best.power, "\(total) vs \(best.power)")
    }
}
