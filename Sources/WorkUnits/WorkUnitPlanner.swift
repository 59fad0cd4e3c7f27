import PulsarSearch
import XunxingProtocol

/// One work unit of a splitting plan: a run of consecutive DM trials sharing a downsampling factor,
/// each searched at every acceleration in `accelerations`.
public struct PlannedWorkUnit: Sendable, Equatable, Codable {
    /// Indices into the DM plan's trials, all of one downsampling factor.
    public var dmTrials: Range<Int>
    /// Time downsampling factor of every series in the unit.
    public var downsample: Int
    /// Acceleration trials, m/s^2, zero first.
    public var accelerations: [Double]
    /// Estimated cost, reference-core seconds.
    public var estimatedCost: Double

    public init(dmTrials: Range<Int>, downsample: Int, accelerations: [Double], estimatedCost: Double) {
        self.dmTrials = dmTrials
        self.downsample = downsample
        self.accelerations = accelerations
        self.estimatedCost = estimatedCost
    }
}

/// The DM plan and acceleration range a dataset is searched with, derived the same way every time
/// (the splitter, the assimilator and `xunxing bench units` all use this): the dataset's own
/// `dmMax`, else the preset's, else the default for the band; the dataset's `accelMax`, else the
/// preset's.
public struct DatasetSearchPlan: Sendable, Codable, Equatable {
    public let plan: DMPlan
    public let accelMax: Double
    /// Observation length, seconds.
    public let duration: Double

    public init(plan: DMPlan, accelMax: Double, duration: Double) {
        self.plan = plan
        self.accelMax = accelMax
        self.duration = duration
    }

    public init(reader: any ObservationSource, preset: WorkUnitPreset, dmMax: Double? = nil, accelMax: Double? = nil) {
        let geometry = reader.geometry
        duration = Double(reader.spectrumCount) * reader.header.tsamp
        let top = dmMax ?? preset.dmMax ?? DMPlan.defaultMaximum(geometry: geometry, duration: duration)
        plan = DMPlan(geometry: geometry, dmMin: 0, dmMax: top)
        self.accelMax = accelMax ?? preset.accelMax
    }
}

/// What a dataset was split with: the preset as it was then and the search plan derived from it.
/// Kept with the dataset, so that merging its results uses exactly the DM trials its units were
/// made from, whatever happens to the preset file afterwards.
public struct DatasetSplitPlan: Sendable, Codable, Equatable {
    public var preset: WorkUnitPreset
    public var search: DatasetSearchPlan
    /// What interference excision masked, clipped and filtered before the split (nil: none ran).
    public var rfi: RFIReport?
    /// The observation's header facts and shape (nil in plans kept before they were recorded).
    public var observation: ObservationSummary?

    public init(preset: WorkUnitPreset, search: DatasetSearchPlan, rfi: RFIReport? = nil, observation: ObservationSummary? = nil) {
        self.preset = preset
        self.search = search
        self.rfi = rfi
        self.observation = observation
    }
}

/// Cuts a dataset's DM trials into work units of about equal cost.
public enum WorkUnitPlanner {
    /// Groups consecutive DM trials into units whose estimated cost is close to `preset.targetCost`.
    ///
    /// Stage by stage (a stage is a run of trials with one downsampling factor, never mixed within
    /// a unit): the series have `spectra / downsample` samples of `sampleTime * downsample` s; the
    /// acceleration trials are `AccelerationPlan(maxAcceleration: accelMax, duration: spectra *
    /// sampleTime, sampleTime: sampleTime * downsample)`; the stage's cost is its trial count times
    /// the cost of one series (``CostModel/searchCost(samples:accelerationTrials:)``, plus the FFA's
    /// and the single-pulse search's when the preset asks for them). The stage is
    /// cut into `k = max(1, round(stageCost / targetCost))` units (at most one per trial) of
    /// `floor` or `ceil` of trials / k trials each, so units of a stage differ by at most one trial.
    /// Units come in DM-plan order.
    public static func plan(
        dmPlan: DMPlan, spectra: Int, sampleTime: Double, accelMax: Double, preset: WorkUnitPreset,
        costModel: CostModel = .reference
    ) -> [PlannedWorkUnit] {
        let duration = Double(spectra) * sampleTime
        var units: [PlannedWorkUnit] = []
        for stage in dmPlan.stages where !stage.trials.isEmpty {
            let stageTime = sampleTime * Double(stage.downsample)
            let accelerations = AccelerationPlan(
                maxAcceleration: accelMax, duration: duration, sampleTime: stageTime
            ).trials
            let samples = spectra / stage.downsample
            var perSeries = costModel.searchCost(samples: samples, accelerationTrials: accelerations.count)
            if let ffa = preset.ffaOptions { perSeries += costModel.ffaCost(samples: samples, sampleTime: stageTime, options: ffa) }
            if preset.singlePulseOptions != nil { perSeries += costModel.singlePulseCost(samples: samples) }
            let count = stage.trials.count
            let stageCost = perSeries * Double(count)
            let wanted = preset.targetCost > 0 ? (stageCost / preset.targetCost).rounded() : 1
            let k = Int(min(Double(count), max(1, wanted.isFinite ? wanted : 1)))
            for j in 0..<k {
                let lower = stage.trials.lowerBound + j * count / k
                let upper = stage.trials.lowerBound + (j + 1) * count / k
                units.append(PlannedWorkUnit(
                    dmTrials: lower..<upper, downsample: stage.downsample, accelerations: accelerations,
                    estimatedCost: perSeries * Double(upper - lower)))
            }
        }
        return units
    }
}
