import Foundation
import PulsarSearch
import Testing

@Suite("Simulator: quantised S/N, red noise and interference")
struct SimulatorTests {
    /// Channel-summed series of an observation (DM 0: no dedispersion needed), unit noise sigma.
    static func summed(_ o: SimulatedObservation) -> [Float] {
        let data = Simulator.spectra(o).data
        let n = o.channels
        var series = (0..<o.samples).map { t in (0..<n).reduce(Float(0)) { $0 + data[t * n + $1] } }
        let mean = series.reduce(0, +) / Float(series.count)
        let sd = (series.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(series.count)).squareRoot()
        for i in series.indices { series[i] = (series[i] - mean) / sd }
        return series
    }

    /// Power |X_k|^2 of every bin k < n/2 of the FFTW transform of `series` (n samples).
    static func powerSpectrum(_ series: [Float]) -> [Double] {
        let n = series.count
        let plan = SearchFixtures.planner.plan(size: n)
        let ws = FFTWorkspace(size: n)
        for i in 0..<n { ws.real[i] = series[i] }
        plan.execute(input: ws.real, output: ws.complex)
        return (0..<(n / 2)).map { k in Double(ws.complex[2 * k] * ws.complex[2 * k] + ws.complex[2 * k + 1] * ws.complex[2 * k + 1]) }
    }

    @Test("the injected S/N is the S/N after quantisation: 1-, 2- and 4-bit data match 32-bit floats")
    func quantisedSNR() {
        var o = SimulatedObservation()
        o.channels = 16
        o.samples = 1 << 16
        o.tsamp = 256e-6
        o.pulsars = [InjectedPulsar(period: 0.0512, dm: 0, dutyCycle: 0.05, snr: 40)]
        func snr(_ bits: Int) -> Double {
            // Averaged over seeds: the S/N of one fold scatters by about 1.
            (1...4).map { seed -> Double in
                o.nbits = bits
                o.seed = UInt64(seed)
                let series = Self.summed(o)
                return series.withUnsafeBufferPointer {
                    Folder.fold($0, tsamp: o.tsamp, frequency: 1 / 0.0512, bins: 64).snr
                }
            }.reduce(0, +) / 4
        }
        let reference = snr(32)
        #expect(reference > 20)  // the fold's boxcar S/N, below the matched-filter 40
        for bits in [1, 2, 4] {
            let measured = snr(bits)
            #expect(abs(measured / reference - 1) < 0.08, "\(bits)-bit S/N \(measured), 32-bit \(reference)")
        }
    }

    @Test("red noise has the requested spectral index", arguments: [1.0, 2.0])
    func redNoiseIndex(index: Double) {
        var o = SimulatedObservation()
        o.channels = 1
        o.nbits = 32
        o.samples = 1 << 16
        o.tsamp = 1e-3
        o.interference.redNoiseSigma = 50
        o.interference.redNoiseIndex = index
        let series = Self.summed(o)
        let n = series.count
        let power = Self.powerSpectrum(series)
        // Mean power in octaves from bin 16 to bin n/64, then the least-squares slope in log-log.
        var xs: [Double] = [], ys: [Double] = []
        var lo = 16
        while lo * 2 <= n / 64 {
            var sum = 0.0
            for k in lo..<(2 * lo) { sum += power[k] }
            xs.append(log(Double(lo) * 1.5))
            ys.append(log(sum / Double(lo)))
            lo *= 2
        }
        let mx = xs.reduce(0, +) / Double(xs.count), my = ys.reduce(0, +) / Double(ys.count)
        let slope = zip(xs, ys).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) } / xs.reduce(0) { $0 + ($1 - mx) * ($1 - mx) }
        #expect(abs(-slope - index) < 0.2, "spectral index \(-slope), asked for \(index)")
    }

    @Test("mains at 50 Hz and harmonics, hot channels and broadband impulses are where they are asked for")
    func interference() {
        var o = SimulatedObservation()
        o.channels = 32
        o.nbits = 32
        o.samples = 1 << 16
        o.tsamp = 256e-6
        o.interference.mainsAmplitude = 0.2
        o.interference.narrowbandChannels = [5, 20]
        o.interference.narrowbandSigma = 3
        o.interference.impulseRate = 2
        o.interference.impulseAmplitude = 4
        o.interference.impulseWidth = 1e-3
        let spectra = Simulator.spectra(o)
        let (mean, sigma) = (0.0, 1.0)  // 32-bit data: unit noise, no offset
        // Hot channels: variance 1 + 3^2 (plus the common terms), the others about 1.
        func variance(_ ch: Int) -> Double {
            var s = 0.0, s2 = 0.0
            for t in 0..<o.samples { let v = (Double(spectra.data[t * o.channels + ch]) - mean) / sigma; s += v; s2 += v * v }
            let m = s / Double(o.samples)
            return s2 / Double(o.samples) - m * m
        }
        #expect(variance(5) > 8 && variance(20) > 8, "\(variance(5)), \(variance(20))")
        #expect(variance(6) < 2, "\(variance(6))")
        // Impulses: samples where the mean over the clean channels jumps by the impulse amplitude.
        let clean = (0..<o.channels).filter { ![5, 20].contains($0) }
        var impulseSamples = 0
        for t in 0..<o.samples {
            let m = clean.reduce(0.0) { $0 + (Double(spectra.data[t * o.channels + $1]) - mean) / sigma } / Double(clean.count)
            if m > 2 { impulseSamples += 1 }
        }
        let expected = 2 * o.duration * 4  // 2 per second, 4 samples each
        #expect(Double(impulseSamples) > 0.4 * expected && Double(impulseSamples) < 2 * expected, "\(impulseSamples) impulse samples, about \(expected) expected")
        // Mains: the 50 and 100 Hz bins stand far above the median power of the summed series.
        var plain = o
        plain.interference.narrowbandChannels = []
        plain.interference.impulseRate = 0
        let series = Self.summed(plain)
        let n = series.count
        let spectrum = Self.powerSpectrum(series)
        func power(_ k: Int) -> Double { spectrum[k] }
        let median = (1..<(n / 2)).map(power).sorted()[n / 4]
        for f in [50.0, 100.0] {
            let k = Int((f * o.duration).rounded())
            let peak = (k - 1...k + 1).map(power).max()!
            #expect(peak > 1000 * median, "\(f) Hz: \(peak / median) x the median power")
        }
    }
}
