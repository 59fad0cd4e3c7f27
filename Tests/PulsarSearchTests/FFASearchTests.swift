import Foundation
import Testing
@testable import PulsarSearch

/// The FFA search's statistics on noise and its detections of injected pulsars.
@Suite("FFA search")
struct FFASearchTests {
    static let sampleTime = 0.001

    /// White noise, plus red noise (a random walk) when `red` is its step.
    static func noise(_ count: Int, seed: UInt64, red: Double = 0) -> [Float] {
        var random = SeededGenerator(seed: seed)
        var walk = 0.0
        return (0..<count).map { _ in
            walk += red * random.gaussian()
            return Float(random.gaussian() + walk)
        }
    }

    /// `series` with top-hat pulses of `width` samples and `amplitude` every `period` seconds.
    static func inject(_ series: inout [Float], period: Double, width: Int, amplitude: Float, phase: Double = 0.3) {
        var t = phase * period
        while Int(t / sampleTime) + width < series.count {
            let start = Int((t / sampleTime).rounded())
            for i in start..<(start + width) { series[i] += amplitude }
            t += period
        }
    }

    static var options: FFAOptions {
        var o = FFAOptions()
        o.periodMax = 8
        return o
    }

    static func periodogram(_ series: [Float], options: FFAOptions = options) -> FFAPeriodogram {
        series.withUnsafeBufferPointer { FFASearch(options: options).periodogram($0, sampleTime: sampleTime) }
    }

    @Test("on noise the strongest trial's trial-corrected probability is about uniform, never too small")
    func noiseCalibration() {
        // 100 series of 2^15 samples: 14,361 period trials each, 0.5-8 s.
        var probabilities: [Double] = []
        for seed in 0..<100 {
            let p = Self.periodogram(Self.noise(1 << 15, seed: UInt64(seed) + 1000))
            let top = Double(p.snr.max()!)
            probabilities.append(exp(Significance.trialCorrected(logProbability: Significance.logGaussianTail(top), trials: p.trials)))
        }
        probabilities.sort()
        // Counting too few trials (each trial's best of `bins` placements taken as one normal
        // variate, say) makes small probabilities common, as does the excess noise of wide boxcars
        // left out: measured, 10 of 100 under 0.045 with both.
        for alpha in [0.05, 0.1, 0.25] {
            let count = probabilities.filter { $0 < alpha }.count
            let bound = 100 * alpha + 3 * (100 * alpha * (1 - alpha)).squareRoot()
            #expect(Double(count) <= bound, "\(count) of 100 noise series under p = \(alpha)")
        }
        // And not so conservative that the sigma means nothing: the median is measured at 0.44
        // (counting every placement as independent made it 0.90).
        #expect(probabilities[50] > 0.25 && probabilities[50] < 0.85, "median probability \(probabilities[50])")
    }

    @Test("noise, white or red, gives no detection at 5 sigma; without the running median red noise does")
    func noFalseDetections() {
        var search = FFASearch(options: Self.options, sigmaThreshold: 5)
        var found: [SeriesCandidate] = []
        for seed in 0..<40 {
            let series = Self.noise(1 << 15, seed: UInt64(seed) + 5000, red: seed % 2 == 0 ? 0 : 0.002)
            found += series.withUnsafeBufferPointer { search.search($0, sampleTime: Self.sampleTime, dm: 0, dmIndex: 0) }
        }
        #expect(found.isEmpty, "\(found.count) detections in noise, the strongest at sigma \(found.map(\.sigma).max() ?? 0)")
        // The same red noise with a running median far longer than the series (101 block medians
        // of the window cover it: one level, the median of the whole series).
        search.options.detrendSeconds = 1e7
        var undetrended = 0
        for seed in stride(from: 1, to: 40, by: 2) {
            let series = Self.noise(1 << 15, seed: UInt64(seed) + 5000, red: 0.002)
            undetrended += series.withUnsafeBufferPointer { search.search($0, sampleTime: Self.sampleTime, dm: 0, dmIndex: 0) }.count
        }
        #expect(undetrended > 0, "red noise this strong should make false detections when it is not subtracted")
    }

    /// A series of 2^16 samples with noise (a little red) and top-hat pulses of matched-filter S/N 12.
    static func injected(period: Double, width: Int) -> [Float] {
        var series = Self.noise(1 << 16, seed: UInt64(period * 1000), red: 0.002)
        let turns = Double(series.count) * Self.sampleTime / period
        let duty = Double(width) * Self.sampleTime / period
        // Amplitude for an ideal matched-filter S/N of 12: A sqrt(width turns (1 - duty)).
        Self.inject(&series, period: period, width: width, amplitude: Float(12 / (Double(width) * turns * (1 - duty)).squareRoot()))
        return series
    }

    @Test("a pulsar at least 2 phase bins wide is found at its period and duty cycle with 85% of the ideal S/N",
          arguments: [(0.61, 8), (1.37, 12), (2.9, 30), (4.4, 60), (7.3, 100)])
    func detection(period: Double, width: Int) {
        let series = Self.injected(period: period, width: width)
        let search = FFASearch(options: Self.options, sigmaThreshold: 5)
        let found = series.withUnsafeBufferPointer { search.search($0, sampleTime: Self.sampleTime, dm: 7, dmIndex: 3) }
        guard let best = found.first else {
            Issue.record("P = \(period) s, width \(width): nothing found")
            return
        }
        let duration = Double(series.count) * Self.sampleTime
        let duty = Double(width) * Self.sampleTime / period
        #expect(abs(1 / best.frequency - period) * duration / (period * period) < 1.5,
                "period \(1 / best.frequency) against \(period): more than 1.5 turns of drift over the observation")
        #expect(best.power >= 0.85 * 12, "S/N \(best.power) of an ideal 12")
        #expect(best.power <= 12 + 3, "S/N \(best.power) is more than noise can add to 12")
        #expect(best.dutyCycle! > duty / 1.6 && best.dutyCycle! < duty * 1.6, "duty \(best.dutyCycle!) against \(duty)")
        #expect(best.dm == 7 && best.dmIndex == 3 && best.method == .ffa)
        #expect(best.sigma > 5)
    }

    @Test("a pulse narrower than a phase bin loses to the bins, not more: 65% of the ideal S/N",
          arguments: [(0.61, 3), (2.9, 8), (7.3, 25)])
    func narrowDetection(period: Double, width: Int) {
        let series = Self.injected(period: period, width: width)
        let found = series.withUnsafeBufferPointer {
            FFASearch(options: Self.options, sigmaThreshold: 5).search($0, sampleTime: Self.sampleTime, dm: 0, dmIndex: 0)
        }
        let best = found.first { abs(1 / $0.frequency - period) < 0.01 * period }
        #expect((best?.power ?? 0) >= 0.65 * 12, "S/N \(best?.power ?? 0) of an ideal 12")
        #expect((best?.dutyCycle ?? 1) <= 2.5 / 240, "duty \(best?.dutyCycle ?? 1): the narrowest boxcars should win")
    }

    @Test("periods outside the options, or series too short for them, give an empty periodogram, not a crash")
    func emptyRanges() {
        var o = Self.options
        o.periodMin = 50
        o.periodMax = 60
        #expect(Self.periodogram(Self.noise(1 << 12, seed: 1), options: o).periods.isEmpty)
        #expect(Self.periodogram(Self.noise(10, seed: 1)).periods.isEmpty)
        o = Self.options
        o.binsMax = o.binsMin
        #expect(o.problem?.contains("bins-max") == true)
    }
}
