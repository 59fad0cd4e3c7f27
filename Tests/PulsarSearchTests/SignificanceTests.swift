import Foundation
import PulsarSearch
import Testing

@Suite("Significance of summed powers")
struct SignificanceTests {
    @Test("one harmonic: the tail of an exponential")
    func singleHarmonicTail() {
        for power in [0.5, 3.0, 20.0, 300.0] {
            #expect(abs(Significance.logTailProbability(power: power, harmonics: 1) + power) < 1e-9)
        }
    }

    @Test("two harmonics: Q(2, S) = exp(-S) (1 + S)")
    func twoHarmonicTail() {
        let s = 7.5
        #expect(abs(Significance.logTailProbability(power: s, harmonics: 2) - (-s + log(1 + s))) < 1e-9)
    }

    @Test("Gaussian sigma of familiar tail probabilities")
    func gaussianSigma() {
        #expect(abs(Significance.gaussianSigma(logProbability: log(0.15865525)) - 1) < 1e-4)
        #expect(abs(Significance.gaussianSigma(logProbability: log(1.3498980e-3)) - 3) < 1e-4)
        #expect(abs(Significance.gaussianSigma(logProbability: log(2.8665157e-7)) - 5) < 1e-4)
        // Deep in the tail, where erfc underflows: Q(40) = 3.66e-350.
        #expect(abs(Significance.gaussianSigma(logProbability: -804.6084420137538) - 40) < 1e-3)
        #expect(Significance.gaussianSigma(logProbability: log(0.7)) == 0)
    }

    @Test("more trials make the same power less significant")
    func trialsLowerSigma() {
        let one = Significance.sigma(power: 40, harmonics: 8, trials: 1)
        let many = Significance.sigma(power: 40, harmonics: 8, trials: 1e6)
        #expect(one > many + 2)
    }

    @Test("power threshold inverts sigma", arguments: [1, 2, 4, 8, 16, 32])
    func thresholdInverts(harmonics: Int) {
        let threshold = Significance.powerThreshold(sigma: 5, harmonics: harmonics, trials: 1e6)
        #expect(abs(Significance.sigma(power: threshold, harmonics: harmonics, trials: 1e6) - 5) < 1e-6)
    }
}
