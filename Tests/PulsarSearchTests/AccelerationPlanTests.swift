import Foundation
import PulsarSearch
import Testing

@Suite("Acceleration trials")
struct AccelerationPlanTests {
    @Test("neighbouring trials drift apart by at most the allowed bins at the highest searched frequency, with no trial to spare")
    func spacing() {
        var rng = FormatsFixtures.Random(seed: 2026)
        for _ in 0..<200 {
            let dt = [64e-6, 1e-4, 2.56e-4, 1e-3].randomElement(using: &rng)!
            let duration = Double.random(in: 10...3600, using: &rng)
            let maxA = Double.random(in: 1...500, using: &rng)
            let drift = [1.0, 2, 4, 8].randomElement(using: &rng)!
            let cap: Double? = Bool.random(using: &rng) ? Double.random(in: 10...2000, using: &rng) : nil
            let plan = AccelerationPlan(
                maxAcceleration: maxA, duration: duration, sampleTime: dt, highestFrequency: cap, drift: drift)
            let fHigh = min(0.5 / dt, cap ?? .infinity)
            #expect(plan.trials.first == 0)
            #expect(abs(plan.trials.map(abs).max()! - maxA) < 1e-9 * maxA)
            let between = AccelerationPlan.drift(frequency: fHigh, acceleration: plan.step, duration: duration)
            #expect(between <= drift * (1 + 1e-9))
            // One trial fewer each side would leave neighbours further apart than allowed.
            let perSide = (plan.trials.count - 1) / 2
            if perSide > 1 {
                let wider = maxA / Double(perSide - 1)
                #expect(AccelerationPlan.drift(frequency: fHigh, acceleration: wider, duration: duration) > drift)
            }
        }
        #expect(AccelerationPlan(maxAcceleration: 0, duration: 100, sampleTime: 1e-3).trials == [0])
    }

    @Test("a millisecond pulsar halfway between two trials keeps at least 93% of the sigma it has on a trial")
    func halfwayBetweenTrials() throws {
        let tsamp = 64e-6, n = 1 << 20
        let duration = Double(n) * tsamp
        var configuration = SearchFixtures.configuration(accelMax: 400, threads: 2)
        configuration.foldCount = 0
        let step = AccelerationPlan(maxAcceleration: 400, duration: duration, sampleTime: tsamp).step
        func sigma(_ acceleration: Double) throws -> Double? {
            let pulsar = InjectedPulsar(period: 0.0025, dm: 0, dutyCycle: 0.05, snr: 20, acceleration: acceleration)
            let series = Simulator.timeSeries(samples: n, tsamp: tsamp, pulsars: [pulsar], seed: 17)
            let report = try SearchPipeline(configuration: configuration, planner: SearchFixtures.planner).search(series)
            return SearchFixtures.match(report, period: 0.0025, tolerance: 1e-3)?.candidate.sigma
        }
        let onTrial = try #require(try sigma(10 * step))
        let halfway = try #require(try sigma(10.5 * step))
        #expect(halfway >= 0.93 * onTrial, "on a trial \(onTrial), halfway \(halfway), step \(step) m/s^2")
        // And without the acceleration search the same pulsar is much weaker.
        configuration.accelMax = 0
        let unsearched = try sigma(10.5 * step) ?? 0
        #expect(unsearched < 0.8 * onTrial, "unsearched \(unsearched)")
    }
}
