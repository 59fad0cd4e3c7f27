import CSearchKernels
import Foundation
import PulsarSearch
import Testing

/// The one-pass fold into sub-integrations and the prepfold-style search over it, against
/// brute-force references.
@Suite("Folding into sub-integrations")
struct FoldTests {
    @Test(
        "the kernel puts every sample in floor(frac(phase) * bins), as a per-sample loop does, in both of its regimes",
        arguments: [0.0003, 0.004, 0.011, 0.02, 0.0624, 0.13, 0.4, 0.77])
    func kernelAgainstBruteForce(binsPerSample: Double) {
        var rng = FormatsFixtures.Random(seed: UInt64(binsPerSample * 1e6))
        for trial in 0..<6 {
            let nbins = [7, 16, 31, 64, 100, 128][trial]
            let n = Int.random(in: 2000...20000, using: &rng)
            let x = (0..<n).map { _ in Float.random(in: -3...5, using: &rng) }
            let phase0 = Double.random(in: -50...50, using: &rng)
            let dphase = binsPerSample / Double(nbins) * Double.random(in: 0.9...1.1, using: &rng)
            var sums = [Double](repeating: 0, count: nbins), counts = sums
            var scratch = [Double](repeating: 0, count: 8 * nbins)
            let squares = xx_fold_linear(x, n, phase0, dphase, Int32(nbins), &sums, &counts, &scratch)
            let refSquares = x.reduce(0.0) { $0 + Double($1) * Double($1) }
            #expect(abs(squares - refSquares) < 1e-9 * refSquares, "sum of squares \(squares), brute force \(refSquares)")
            // Brute force, and the samples within 1e-6 turns of a bin edge, where fixed-point and
            // double phases may round to different sides.
            var refSums = [Double](repeating: 0, count: nbins), refCounts = refSums
            var slack = [Double](repeating: 0, count: nbins), slackSum = slack
            for j in 0..<n {
                let p = phase0 + Double(j) * dphase
                let f = (p - p.rounded(.down)) * Double(nbins)
                let b = min(nbins - 1, Int(f))
                refSums[b] += Double(x[j])
                refCounts[b] += 1
                let edge = min(f - f.rounded(.down), f.rounded(.up) - f)
                if edge < 1e-6 * Double(nbins) {
                    for k in [b, (b + 1) % nbins, (b + nbins - 1) % nbins] {
                        slack[k] += 1
                        slackSum[k] += Double(abs(x[j]))
                    }
                }
            }
            for b in 0..<nbins {
                #expect(abs(counts[b] - refCounts[b]) <= slack[b], "bins \(nbins), bin \(b)")
                #expect(abs(sums[b] - refSums[b]) <= slackSum[b] + 1e-3 * (1 + abs(refSums[b])), "bins \(nbins), bin \(b)")
            }
            #expect(counts.reduce(0, +) == Double(n))
        }
    }

    /// Folds sample by sample with the cube's phase model, the reference for everything below.
    /// Also returns, per bin, the sum of |x - mean| of the samples within `edge` bins of one of its
    /// edges: those may fall on the other side in a fold that tracks the phase differently.
    static func bruteFold(
        _ x: [Float], tsamp: Double, frequency: Double, acceleration: Double, bins: Int, edge: Double = 1e-3
    ) -> (sums: [Double], slack: [Double]) {
        let n = x.count, mid = Double(n) / 2
        let q = frequency * acceleration * tsamp * tsamp / (2 * AccelerationPlan.speedOfLight)
        let mean = x.reduce(0.0) { $0 + Double($1) } / Double(n)
        var sums = [Double](repeating: 0, count: bins), slack = sums
        for j in 0..<n {
            let d = Double(j) - mid
            let p = frequency * tsamp * Double(j) - q * d * d
            let f = (p - p.rounded(.down)) * Double(bins)
            let b = min(bins - 1, Int(f))
            sums[b] += Double(x[j]) - mean
            if min(f - f.rounded(.down), f.rounded(.up) - f) < edge {
                for k in [b, (b + 1) % bins, (b + bins - 1) % bins] { slack[k] += abs(Double(x[j]) - mean) }
            }
        }
        return (sums, slack)
    }

    @Test("a one-sub-integration cube equals the brute-force fold, with and without acceleration")
    func cubeAgainstBruteForce() {
        var rng = FormatsFixtures.Random(seed: 42)
        let tsamp = 1e-3, n = 50_000
        let x = (0..<n).map { _ in Float.random(in: 0...10, using: &rng) }
        for (f, a) in [(3.7, 0.0), (41.3, 0.0), (41.3, 2000.0), (123.45, -800.0), (311.1, 30000.0)] {
            let bins = 32
            let reference = Self.bruteFold(x, tsamp: tsamp, frequency: f, acceleration: a, bins: bins)
            let cube = x.withUnsafeBufferPointer {
                FoldCube($0, tsamp: tsamp, frequency: f, acceleration: a, bins: bins, subintegrations: 1)
            }
            let total = cube.profile(shifts: [0]).sums
            for b in 0..<bins {
                #expect(
                    abs(total[b] - reference.sums[b]) <= reference.slack[b] + 1e-6 * Double(n),
                    "f \(f), a \(a), bin \(b): \(total[b]) against \(reference.sums[b])")
            }
            #expect(cube.counts.reduce(0, +) == Double(n))
        }
    }

    @Test("shifting and adding sub-integrations finds the frequency and acceleration a direct fold peaks at (also when folded from a decimated series)")
    func searchRecoversOffsets() {
        let cases: [(seed: UInt64, period: Double, tsamp: Double, log2: Int, acceleration: Double)] = [
            (21, 0.0371, 5e-4, 19, 0), (22, 0.0021, 1e-4, 21, 200),
            // 28 samples to a cube bin: folded from the series summed 4 samples at a time.
            (23, 0.731, 2e-4, 20, 0),
        ]
        for (seed, period, tsamp, log2, acceleration) in cases {
            let n = 1 << log2
            let duration = Double(n) * tsamp
            let pulsar = InjectedPulsar(period: period, dm: 0, dutyCycle: 0.04, snr: 25, acceleration: acceleration)
            let series = Simulator.timeSeries(samples: n, tsamp: tsamp, pulsars: [pulsar], seed: seed)
            // Start 0.43 Fourier bins off in frequency and, for the accelerated pulsar, 20 m/s^2 off.
            let start = 1 / period + 0.43 / duration
            let startAcceleration = acceleration == 0 ? 0 : acceleration - 20
            let found = series.samples.withUnsafeBufferPointer {
                Folder.optimise(
                    $0, tsamp: tsamp, frequency: start, acceleration: startAcceleration,
                    accelerationSpan: acceleration == 0 ? 0 : 30)
            }
            let bins = Folder.binCount(period: period, tsamp: tsamp)
            #expect(abs(found.frequency - 1 / period) < 1.5 / (Double(bins) * duration), "seed \(seed)")
            if acceleration != 0 {
                // One step of the grid: 8c / (f T^2 bins).
                let step = 8 * AccelerationPlan.speedOfLight / (1 / period * duration * duration * Double(bins))
                #expect(abs(found.acceleration - acceleration) < 1.5 * step, "found \(found.acceleration)")
            }
            // As good as folding directly at the truth.
            let direct = series.samples.withUnsafeBufferPointer {
                Folder.fold($0, tsamp: tsamp, frequency: 1 / period, acceleration: acceleration, bins: bins)
            }
            #expect(found.snr > 0.93 * direct.snr, "optimised \(found.snr), direct \(direct.snr)")
            // And far better than the starting point, which smears the pulse.
            let unrefined = series.samples.withUnsafeBufferPointer {
                Folder.fold($0, tsamp: tsamp, frequency: start, acceleration: startAcceleration, bins: bins)
            }
            #expect(found.reducedChiSquare > 1.5 * unrefined.reducedChiSquare)
        }
    }

    @Test("by default the fold also searches the period derivative a search without acceleration trials leaves")
    func periodDerivativeByDefault() {
        // 3 Fourier bins of drift over the observation: smeared at zero acceleration.
        let tsamp = 1e-4, n = 1 << 21, period = 0.0052
        let duration = Double(n) * tsamp
        let acceleration = Folder.driftAcceleration(frequency: 1 / period, duration: duration, bins: 1.5)
        let pulsar = InjectedPulsar(period: period, dm: 0, dutyCycle: 0.03, snr: 25, acceleration: acceleration)
        let series = Simulator.timeSeries(samples: n, tsamp: tsamp, pulsars: [pulsar], seed: 41)
        series.samples.withUnsafeBufferPointer { x in
            let withDerivative = Folder.optimise(x, tsamp: tsamp, frequency: 1 / period)
            let without = Folder.optimise(x, tsamp: tsamp, frequency: 1 / period, accelerationSpan: 0)
            let bins = Folder.binCount(period: period, tsamp: tsamp)
            let truth = Folder.fold(x, tsamp: tsamp, frequency: 1 / period, acceleration: acceleration, bins: bins)
            // A 1.5-bin pulse's S/N moves by about 10% with where the bin edges fall, so the
            // acceleration found is the sharper check: within 1.5 grid steps (8c / (f T^2 bins)).
            #expect(withDerivative.snr > 0.8 * truth.snr, "with \(withDerivative.snr), truth \(truth.snr)")
            #expect(withDerivative.snr > 1.5 * without.snr, "with \(withDerivative.snr), without \(without.snr)")
            let step = 8 * AccelerationPlan.speedOfLight / (duration * duration * Double(bins) / period)
            #expect(abs(withDerivative.acceleration - acceleration) < 1.5 * step, "found \(withDerivative.acceleration) for \(acceleration)")
        }
    }

    @Test("a period longer than a 64th of the series folds to the S/N of one whole fold (no part of the pulse lost to sub-integration means)")
    func longPeriodsKeepTheirPulse() {
        // 52 s of 100 us: 26 turns of 2.03 s and 103 of 0.51 s, so 64 sub-integrations of 0.82 s
        // would be shorter than the period or barely longer.
        let tsamp = 1e-4, n = 1 << 19
        for period in [2.0307, 0.51003] {
            var ratios: [Double] = []
            for seed in UInt64(60)..<66 {
                let pulsar = InjectedPulsar(period: period, dm: 0, dutyCycle: 0.05, snr: 20, phase: Double(seed) / 7)
                let series = Simulator.timeSeries(samples: n, tsamp: tsamp, pulsars: [pulsar], seed: seed)
                series.samples.withUnsafeBufferPointer { x in
                    let found = Folder.optimise(x, tsamp: tsamp, frequency: 1 / period)
                    let whole = Folder.fold(x, tsamp: tsamp, frequency: 1 / period, bins: Folder.binCount(period: period, tsamp: tsamp))
                    ratios.append(found.snr / whole.snr)
                }
            }
            let median = ratios.sorted()[ratios.count / 2]
            #expect(median > 0.95, "period \(period) s: optimised / whole-fold S/N \(ratios)")
        }
    }

    @Test("a coarsened cube holds, in every cell, the sum of the cells it replaces", arguments: [(4, 2), (3, 4), (1, 1)])
    func coarsenedCube(subintegrationFactor: Int, binFactor: Int) {
        let tsamp = 1e-4, n = 1 << 16
        let series = Simulator.timeSeries(
            samples: n, tsamp: tsamp, pulsars: [InjectedPulsar(period: 0.0173, dm: 0, snr: 30)], seed: 71)
        let cube = series.samples.withUnsafeBufferPointer {
            FoldCube($0, tsamp: tsamp, frequency: 1 / 0.0173, bins: 48, subintegrations: 38)
        }
        let coarse = cube.coarsened(subintegrationFactor: subintegrationFactor, binFactor: binFactor)
        #expect(coarse.bins == 48 / binFactor && coarse.subintegrations == 38 / subintegrationFactor)
        var sums = [Double](repeating: 0, count: coarse.subintegrations * coarse.bins)
        var variances = sums
        var times = [[Double]](repeating: [], count: coarse.subintegrations)
        for s in 0..<38 {
            let g = min(coarse.subintegrations - 1, s / subintegrationFactor)
            times[g].append(cube.midTimes[s])
            for b in 0..<48 {
                sums[g * coarse.bins + b / binFactor] += cube.sums[s * 48 + b]
                variances[g * coarse.bins + b / binFactor] += cube.variances[s * 48 + b]
            }
        }
        for j in sums.indices {
            #expect(abs(coarse.sums[j] - sums[j]) < 1e-9 * max(1, abs(sums[j])), "cell \(j)")
            #expect(abs(coarse.variances[j] - variances[j]) < 1e-9 * max(1, variances[j]), "cell \(j)")
        }
        for g in times.indices {
            #expect(abs(coarse.midTimes[g] - times[g].reduce(0, +) / Double(times[g].count)) < 1e-12)
        }
    }

    @Test("a fold from a shared pyramid level equals the fold that decimates by itself, for every factor")
    func pyramidFolds() {
        // An odd length, so that every level drops a remainder; random values, unequal everywhere.
        var random = SeededGenerator(seed: 5)
        let series = (0..<((1 << 17) + 37)).map { _ in Float(random.gaussian()) + 3 }
        let pyramid = SeriesPyramid()
        series.withUnsafeBufferPointer { x in
            for factor in [32, 2, 8, 4, 64] {
                let level = pyramid.level(factor, of: x)
                #expect(level.count == x.count / factor)
                // Brute force: each value the sum of its run, within float rounding.
                for i in stride(from: 0, to: level.count, by: 97) {
                    let run = (0..<factor).reduce(0.0) { $0 + Double(x[i * factor + $1]) }
                    #expect(abs(Double(level[i]) - run) < 1e-4 * Double(factor), "factor \(factor), value \(i)")
                }
                let direct = FoldCube(x, tsamp: 1e-4, frequency: 3.7, acceleration: 50, bins: 40, subintegrations: 16, decimation: factor)
                let shared = level.withUnsafeBufferPointer {
                    FoldCube(summed: $0, factor: factor, tsamp: 1e-4, frequency: 3.7, acceleration: 50, bins: 40, subintegrations: 16)
                }
                #expect(direct.sums == shared.sums && direct.counts == shared.counts && direct.midTimes == shared.midTimes, "factor \(factor)")
            }
        }
    }

    @Test("in red noise, at a period commensurate with the sampling, rotated sub-integrations add up to noise as a direct fold does")
    func redNoiseCommensurate() {
        // f tsamp = 16/425: every bin sees 4 or 5 of the 425 phases a cycle, in every sub-integration.
        let tsamp = 64e-6, n = 1 << 21
        var red = SimulatedInterference()
        red.redNoiseSigma = 3
        let series = Simulator.timeSeries(samples: n, tsamp: tsamp, pulsars: [], seed: 33, interference: red)
        let f = 16.0 / 425 / tsamp, duration = Double(n) * tsamp
        series.samples.withUnsafeBufferPointer { x in
            let cube = FoldCube(x, tsamp: tsamp, frequency: f, bins: 104, subintegrations: 64)
            for offset in [-0.42, -0.2, 0.1, 0.37] {
                let shifts = FoldSearch.shifts(cube: cube, frequencyOffset: offset / duration, accelerationOffset: 0)
                let rotated = FoldedProfile(frequency: f, acceleration: 0, sums: cube.profile(shifts: shifts))
                #expect(rotated.reducedChiSquare > 0.5 && rotated.reducedChiSquare < 2, "offset \(offset) bins: reduced chi-square \(rotated.reducedChiSquare)")
            }
        }
    }

    @Test("the rotation for each sub-integration is the brute-force phase drift, rounded to bins")
    func shiftsAgainstDrift() {
        let x = [Float](repeating: 1, count: 64 * 1000)
        let cube = x.withUnsafeBufferPointer {
            FoldCube($0, tsamp: 1e-3, frequency: 10, bins: 50, subintegrations: 64)
        }
        let df = 0.0123, da = 37.0
        let shifts = FoldSearch.shifts(cube: cube, frequencyOffset: df, accelerationOffset: da)
        for (s, t) in cube.midTimes.enumerated() {
            let drift = df * t - 10 * da * t * t / (2 * AccelerationPlan.speedOfLight)
            #expect(abs(Double(shifts[s]) + drift * 50) <= 0.5 + 1e-9)
        }
        #expect(abs(cube.midTimes.first! + 32 - 0.5) < 1e-9)
    }

    @Test("a local search's candidates carry the spectrum they were detected in, without another FFT")
    func excerptFromSearchedSpectrum() throws {
        let tsamp = 2e-4, n = 1 << 18
        let period = 0.0123
        let series = Simulator.timeSeries(
            samples: n, tsamp: tsamp, pulsars: [InjectedPulsar(period: period, dm: 0, dutyCycle: 0.3, snr: 30)], seed: 31)
        var configuration = SearchFixtures.configuration(threads: 1)
        configuration.harmonics = 1
        let report = try SearchPipeline(configuration: configuration, planner: SearchFixtures.planner).search(series)
        let found = try #require(SearchFixtures.match(report, period: period, tolerance: 1e-4), "\(SearchFixtures.summary(report))")
        let spectrum = try #require(found.candidate.spectrum)
        let duration = Double(n) * tsamp
        #expect(abs(spectrum.stepHz - 1 / duration) < 1e-12)
        // The strongest power is the pulsar's bin, and it is the whitened power the search summed
        // (a 1-harmonic candidate's power is its bin's, interpolated: at least as large).
        let peak = spectrum.powers.indices.max { spectrum.powers[$0] < spectrum.powers[$1] }!
        let peakFrequency = spectrum.startHz + Double(peak) * spectrum.stepHz
        #expect(abs(peakFrequency - 1 / period) <= 1 / duration)
        #expect(Double(spectrum.powers[peak]) <= found.candidate.power * 1.0001)
        // Between two bins a sinusoid keeps (2/pi)^2 = 0.405 of its power in the nearer one.
        #expect(Double(spectrum.powers[peak]) > 0.38 * found.candidate.power)
        // Noise around it is whitened to a mean of about 1.
        let noise = spectrum.powers.enumerated().filter { abs($0.offset - peak) > 3 }.map { Double($0.element) }
        let mean = noise.reduce(0, +) / Double(noise.count)
        #expect(mean > 0.6 && mean < 1.5, "noise mean \(mean)")
    }
}
