import Foundation
import PulsarSearch
import Testing

@Suite("Sifting and folding")
struct SiftAndFoldTests {
    func detection(_ f: Double, sigma: Double, dm: Int, harmonics: Int = 8) -> SeriesCandidate {
        SeriesCandidate(frequency: f, harmonics: harmonics, power: 0, sigma: sigma, acceleration: 0, dm: Double(dm), dmIndex: dm)
    }

    @Test("one signal seen at many DMs becomes one candidate at its best DM")
    func mergesAcrossDM() {
        let duration = 100.0
        let detections = (10...20).map { detection(5 + 0.2 / duration * Double($0 % 3), sigma: 10 - 0.5 * Double(abs($0 - 15)), dm: $0) }
        let sifted = CandidateSifter().sift(detections, duration: duration, dmTrialCount: 100)
        #expect(sifted.count == 1)
        #expect(sifted[0].best.dmIndex == 15)
        #expect(sifted[0].dmIndices == Array(10...20))
    }

    @Test("harmonics and small-ratio relatives of a stronger signal are dropped; unrelated ones kept")
    func dropsHarmonics() {
        let duration = 60.0
        var detections: [SeriesCandidate] = []
        for dm in 30...32 {
            detections.append(detection(4, sigma: 20, dm: dm))
            detections.append(detection(8, sigma: 12, dm: dm))  // 2nd harmonic
            detections.append(detection(6, sigma: 9, dm: dm))  // 3/2
            detections.append(detection(1.3333333, sigma: 8, dm: dm))  // 1/3
            detections.append(detection(4.93, sigma: 7, dm: dm))  // unrelated
        }
        let sifted = CandidateSifter().sift(detections, duration: duration, dmTrialCount: 100)
        #expect(sifted.map { $0.best.frequency } == [4, 4.93])
    }

    @Test("a 3/2 relative at another DM is a different pulsar; a 7/5 relative is an echo only if it sums 5+ harmonics")
    func harmonicRelationsNeedTheSameDMAndSmallRatios() {
        let duration = 60.0
        var detections: [SeriesCandidate] = []
        for dm in 30...34 { detections.append(detection(4, sigma: 20, dm: dm)) }
        for dm in 90...94 { detections.append(detection(6, sigma: 9, dm: dm)) }  // 3/2, other DM
        for dm in 30...34 { detections.append(detection(4 * 7 / 5, sigma: 8, dm: dm, harmonics: 4)) }  // 7/5, 4 harmonics
        for dm in 31...33 { detections.append(detection(12, sigma: 10, dm: dm)) }  // 3rd harmonic, same DM
        let sifted = CandidateSifter().sift(detections, duration: duration, dmTrialCount: 100)
        #expect(sifted.map { $0.best.frequency } == [4, 6, 4 * 7 / 5])
        // Summed over 8 harmonics, the 7/5 detection's 5th term is the 7th harmonic of 4 Hz.
        let echo = detections.map { c -> SeriesCandidate in
            var c = c
            if c.frequency == 4 * 7 / 5 { c.harmonics = 8 }
            return c
        }
        #expect(CandidateSifter().sift(echo, duration: duration, dmTrialCount: 100).map { $0.best.frequency } == [4, 6])
    }

    @Test("signals peaking below the low-DM cutoff are dropped when many DMs were searched")
    func lowDMCutoff() {
        let rfi = (0...3).map { detection(50, sigma: 30 - Double($0), dm: $0) }
        #expect(CandidateSifter().sift(rfi, duration: 60, dmTrialCount: 100).isEmpty)
        let single = [detection(50, sigma: 30, dm: 0)]
        #expect(CandidateSifter().sift(single, duration: 60, dmTrialCount: 1).count == 1)
        var parameters = SiftParameters()
        parameters.minDM = 0
        #expect(CandidateSifter(parameters: parameters).sift(rfi, duration: 60, dmTrialCount: 100).count == 1)
    }

    @Test("a signal at a single DM trial, or with no neighbouring DM, is not a pulsar")
    func needsNeighbouringDMs() {
        let lone = [detection(7, sigma: 9, dm: 5)]
        #expect(CandidateSifter().sift(lone, duration: 60, dmTrialCount: 50).isEmpty)
        let gapped = [detection(7, sigma: 9, dm: 5), detection(7, sigma: 8, dm: 9)]
        #expect(CandidateSifter().sift(gapped, duration: 60, dmTrialCount: 50).isEmpty)
        #expect(CandidateSifter().sift(lone, duration: 60, dmTrialCount: 1).count == 1)
    }

    @Test("folding: a pulse gives a large reduced chi-square and S/N, noise about 1")
    func folding() {
        let tsamp = 1e-3
        let series = Simulator.timeSeries(
            samples: 1 << 16, tsamp: tsamp, pulsars: [InjectedPulsar(period: 0.137, dm: 0, dutyCycle: 0.04, snr: 20)], seed: 4)
        let pulsar = series.samples.withUnsafeBufferPointer {
            Folder.optimise($0, tsamp: tsamp, frequency: 1 / 0.137 * (1 + 2e-6))
        }
        #expect(abs(1 / pulsar.frequency - 0.137) / 0.137 < 5e-5)
        #expect(pulsar.reducedChiSquare > 5)
        #expect(pulsar.snr > 12 && pulsar.snr < 30)
        #expect(pulsar.width < 0.2)
        let noise = Simulator.timeSeries(samples: 1 << 16, tsamp: tsamp, pulsars: [], seed: 5)
        let flat = noise.samples.withUnsafeBufferPointer {
            Folder.fold($0, tsamp: tsamp, frequency: 1 / 0.137, bins: 64)
        }
        #expect(flat.reducedChiSquare > 0.6 && flat.reducedChiSquare < 1.5)
    }

    @Test("acceleration resampling undoes a line-of-sight acceleration")
    func resampling() {
        let tsamp = 2e-4
        let n = 1 << 20
        let pulsar = InjectedPulsar(period: 0.004, dm: 0, dutyCycle: 0.05, snr: 40, acceleration: 300)
        let series = Simulator.timeSeries(samples: n, tsamp: tsamp, pulsars: [pulsar], seed: 6)
        let plan = AccelerationPlan(maxAcceleration: 400, duration: Double(n) * tsamp, sampleTime: tsamp)
        #expect(plan.trials.count > 3)
        #expect(plan.trials.first == 0)
        var resampled = [Float](repeating: 0, count: n)
        func chi(_ a: Double) -> Double {
            series.samples.withUnsafeBufferPointer { input in
                resampled.withUnsafeMutableBufferPointer {
                    AccelerationPlan.resample(input, tsamp: tsamp, acceleration: a, into: $0)
                }
            }
            return resampled.withUnsafeBufferPointer {
                Folder.fold($0, tsamp: tsamp, frequency: 250, bins: 32).reducedChiSquare
            }
        }
        #expect(chi(300) > 3 * chi(0))
        #expect(chi(300) > 2 * chi(-300))
    }
}
