import Foundation
import PulsarSearch
import Testing

@Suite("DM planning")
struct DMPlanTests {
    /// A Parkes-multibeam-like band: 1024 channels of 0.29 MHz from 1517 MHz down, 64 us.
    let band = BandGeometry(channelFrequencies: (0..<1024).map { 1517 - 0.29 * Double($0) }, sampleTime: 64e-6)

    @Test("covers the requested range in increasing DM")
    func coversRange() {
        let plan = DMPlan(geometry: band, dmMin: 0, dmMax: 1000)
        #expect(plan.trials.first?.dm == 0)
        #expect(plan.trials.last!.dm <= 1000 + 1e-9)
        #expect(zip(plan.trials, plan.trials.dropFirst()).allSatisfy { $0.dm < $1.dm })
        let lastStep = plan.trials[plan.trials.count - 1].dm - plan.trials[plan.trials.count - 2].dm
        #expect(1000 - plan.trials.last!.dm < lastStep)
    }

    @Test("step keeps half-step smearing within one effective sample; downsampling grows with DM")
    func stepFromSmearing() {
        let plan = DMPlan(geometry: band, dmMin: 0, dmMax: 1000)
        for (a, b) in zip(plan.trials, plan.trials.dropFirst()) where a.downsample == b.downsample {
            let step = b.dm - a.dm
            let smear = 0.5 * step * band.delayPerDM
            #expect(smear <= band.sampleTime * Double(a.downsample) * 1.0001)
        }
        #expect(zip(plan.trials, plan.trials.dropFirst()).allSatisfy { $0.downsample <= $1.downsample })
        #expect(plan.trials.last!.downsample > 1)
        // Far fewer trials than a fixed finest step would need.
        let finest = plan.trials[1].dm - plan.trials[0].dm
        #expect(Double(plan.trials.count) < 1000 / finest / 3)
    }

    @Test("downsampling starts where channel smearing passes twice the sample time")
    func downsamplingPoint() {
        let plan = DMPlan(geometry: band, dmMin: 0, dmMax: 1000)
        let first = plan.trials.first { $0.downsample == 2 }!
        let smear = Dispersion.channelSmearing(dm: first.dm, frequency: band.centreFrequency, channelWidth: band.channelWidth)
        #expect(smear >= 2 * band.sampleTime * 0.99)
    }

    @Test("maxDownsample 1 disables downsampling")
    func noDownsampling() {
        let plan = DMPlan(geometry: band, dmMin: 100, dmMax: 200, maxDownsample: 1)
        #expect(plan.trials.allSatisfy { $0.downsample == 1 })
        #expect(plan.trials.first?.dm == 100)
    }

    @Test("default maximum DM: half the observation's delay across the band")
    func defaultMaximum() {
        let dm = DMPlan.defaultMaximum(geometry: band, duration: 1)
        #expect(dm < 1000)
        #expect(abs(Dispersion.delay(dm: dm, frequency: band.lowestFrequency, reference: band.highestFrequency) - 0.5) < 1e-6)
        #expect(DMPlan.defaultMaximum(geometry: band, duration: 1e6) == 1000)
    }
}
