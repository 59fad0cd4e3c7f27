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
        // Fewer trials than a fixed finest step would need (downsampling now starts late, at DM
        // 541 here, so the saving is 23%, not the 3x it was when it started at DM 136).
        let finest = plan.trials[1].dm - plan.trials[0].dm
        #expect(Double(plan.trials.count) < 0.8 * 1000 / finest)
    }

    /// Width of a narrow pulse at full resolution at `dm`: sample time and channel smearing.
    func fullResolutionWidth(_ dm: Double) -> Double {
        let smear = Dispersion.channelSmearing(dm: dm, frequency: band.centreFrequency, channelWidth: band.channelWidth)
        return (band.sampleTime * band.sampleTime + smear * smear).squareRoot()
    }

    @Test("downsampling to dt' starts where the full-resolution smearing reaches tol x dt', not before")
    func downsamplingPoint() {
        let plan = DMPlan(geometry: band, dmMin: 0, dmMax: 1000)
        let tol = DMPlan.smearingTolerance
        #expect(tol == 4)
        let stages = plan.stages
        #expect(stages.map(\.downsample) == [1, 2])
        for (previous, stage) in zip(stages, stages.dropFirst()) {
            let newSampleTime = band.sampleTime * Double(stage.downsample)
            let first = plan.trials[stage.trials.lowerBound].dm
            let last = plan.trials[previous.trials.upperBound - 1].dm
            #expect(fullResolutionWidth(first) >= tol * newSampleTime * 0.9999, "x\(stage.downsample) from DM \(first)")
            #expect(fullResolutionWidth(last) < tol * newSampleTime, "x\(previous.downsample) up to DM \(last)")
        }
        // This band goes to x2 at DM 541.3 (channel smearing 8 samples); the old rule (channel
        // smearing twice the current sample time) did at DM 136.4.
        let first2 = plan.trials.first { $0.downsample == 2 }!.dm
        #expect(abs(first2 - 541.3) < 0.1 + 1e-9)
        // A band with wide channels reaches every factor up to the cap, each at its own DM.
        let wide = BandGeometry(channelFrequencies: (0..<64).map { 1500 - 300.0 / 64 * Double($0) }, sampleTime: 100e-6)
        let widePlan = DMPlan(geometry: wide, dmMin: 0, dmMax: 2000, maxDownsample: 32)
        #expect(widePlan.stages.map(\.downsample) == [1, 2, 4, 8, 16, 32])
        for stage in widePlan.stages.dropFirst() {
            let dm = widePlan.trials[stage.trials.lowerBound].dm
            let smear = Dispersion.channelSmearing(dm: dm, frequency: wide.centreFrequency, channelWidth: wide.channelWidth)
            let width = (wide.sampleTime * wide.sampleTime + smear * smear).squareRoot()
            let dtNew = wide.sampleTime * Double(stage.downsample)
            #expect(width >= tol * dtNew * 0.9999 && width < tol * dtNew * 1.1, "x\(stage.downsample) from DM \(dm)")
        }
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
