import Foundation
import PulsarSearch
import Testing
import WorkUnits

@Suite("Work-unit planner")
struct PlannerTests {
    /// A preset like `tiny` with another target cost.
    func preset(targetCost: Double) -> WorkUnitPreset {
        WorkUnitPreset(name: "test", summary: "test", targetCost: targetCost, deadlineSeconds: 60)
    }

    func geometry(channels: Int, fch1: Double, foff: Double, tsamp: Double) -> BandGeometry {
        BandGeometry(channelFrequencies: (0..<channels).map { fch1 + foff * Double($0) }, sampleTime: tsamp)
    }

    @Test("a 1000+ trial plan is covered exactly once, stage by stage, in units of about equal cost")
    func coverage() throws {
        let g = geometry(channels: 1024, fch1: 1500, foff: -0.25, tsamp: 64e-6)
        let dmPlan = DMPlan(geometry: g, dmMin: 0, dmMax: 2000)
        let stages = dmPlan.stages
        #expect(dmPlan.trials.count >= 1000)
        #expect(stages.count >= 3)
        let spectra = 1 << 22, accelMax = 20.0
        let model = CostModel.reference
        // Expected total: every trial's series at its stage's acceleration trials.
        let duration = Double(spectra) * g.sampleTime
        var total = 0.0
        for stage in stages {
            let accel = AccelerationPlan(maxAcceleration: accelMax, duration: duration, sampleTime: g.sampleTime * Double(stage.downsample))
            total += Double(stage.trials.count) * model.searchCost(samples: spectra / stage.downsample, accelerationTrials: accel.trials.count)
        }
        let target = total / 60
        let units = WorkUnitPlanner.plan(
            dmPlan: dmPlan, spectra: spectra, sampleTime: g.sampleTime, accelMax: accelMax, preset: preset(targetCost: target))
        print("planner: \(dmPlan.trials.count) DM trials in \(stages.count) stages "
            + "(downsample \(stages.map(\.downsample))) -> \(units.count) units, target \(String(format: "%.1f", target)) s")

        var covered = [Int](repeating: 0, count: dmPlan.trials.count)
        for unit in units {
            #expect(!unit.dmTrials.isEmpty)
            for t in unit.dmTrials {
                covered[t] += 1
                #expect(dmPlan.trials[t].downsample == unit.downsample)
            }
            #expect(unit.accelerations.first == 0)
        }
        #expect(covered.allSatisfy { $0 == 1 })
        let sum = units.reduce(0) { $0 + $1.estimatedCost }
        #expect(abs(sum - total) <= 1e-9 * total)

        for stage in stages {
            let mine = units.filter { stage.trials.contains($0.dmTrials.lowerBound) }
            let costs = mine.map(\.estimatedCost)
            let stageCost = costs.reduce(0, +)
            // Big enough: two or more trials per unit, so one trial more or less is at most 1.5x.
            if stage.trials.count >= 2 * mine.count {
                #expect(costs.max()! <= 1.5 * costs.min()!, "stage \(stage.downsample): \(costs)")
            }
            if stageCost >= 2 * target && stage.trials.count >= 2 * mine.count {
                #expect(costs.allSatisfy { $0 <= 1.6 * target && $0 >= target / 1.6 }, "stage \(stage.downsample): \(costs)")
            }
            // Acceleration trials follow the stage's sample time.
            let accel = AccelerationPlan(maxAcceleration: accelMax, duration: duration, sampleTime: g.sampleTime * Double(stage.downsample))
            #expect(mine.allSatisfy { $0.accelerations == accel.trials })
        }
    }

    @Test("tiny preset on the tutorial's geometry gives several units")
    func tutorialGeometry() throws {
        let directory = Fixtures.packageRoot.appendingPathComponent("workunits").path
        let tiny = try #require(try PresetCatalog.load(directory: directory)["tiny"])
        let g = geometry(channels: 64, fch1: 1510, foff: -1.09, tsamp: 320e-6)
        let dmPlan = DMPlan(geometry: g, dmMin: 0, dmMax: 1000)
        let units = WorkUnitPlanner.plan(
            dmPlan: dmPlan, spectra: 187_520, sampleTime: g.sampleTime, accelMax: tiny.accelMax, preset: tiny)
        let costs = units.map(\.estimatedCost)
        let total: Double = costs.reduce(0, +)
        print("planner: tutorial geometry, \(dmPlan.trials.count) DM trials in \(dmPlan.stages.count) stages -> "
            + "\(units.count) tiny units, cost \(String(format: "%.3f-%.3f", costs.min() ?? 0, costs.max() ?? 0)) s, "
            + "total \(String(format: "%.2f", total)) s")
        #expect(units.count >= 3)
        #expect(units.map(\.dmTrials.count).reduce(0, +) == dmPlan.trials.count)
    }

    @Test("a single trial never splits, and a cheap dataset is one unit per stage")
    func smallCases() {
        let single = DMPlan(geometry: geometry(channels: 64, fch1: 1510, foff: -1.09, tsamp: 1e-3), dmMin: 30, dmMax: 30)
        #expect(single.trials.count == 1)
        let units = WorkUnitPlanner.plan(dmPlan: single, spectra: 1 << 16, sampleTime: 1e-3, accelMax: 0, preset: preset(targetCost: 1e-6))
        #expect(units.count == 1 && units[0].dmTrials == 0..<1)
        let g = geometry(channels: 64, fch1: 1510, foff: -1.09, tsamp: 320e-6)
        let dmPlan = DMPlan(geometry: g, dmMin: 0, dmMax: 1000)
        let one = WorkUnitPlanner.plan(dmPlan: dmPlan, spectra: 187_520, sampleTime: 320e-6, accelMax: 0, preset: preset(targetCost: 1e9))
        #expect(one.count == dmPlan.stages.count)
    }
}
