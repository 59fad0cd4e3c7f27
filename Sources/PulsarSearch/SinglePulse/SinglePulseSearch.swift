import Foundation

/// Settings of a single-pulse (transient) search.
public struct SinglePulseConfiguration: Sendable {
    public var dmMin: Double = 0
    /// Highest DM (nil: the plan's default for the observation).
    public var dmMax: Double? = nil
    /// Lowest S/N reported.
    public var snrThreshold: Double = 6
    /// Widest boxcar, seconds.
    public var maxWidth: Double = 0.1
    /// Samples per normalisation block, at the full sample time (scaled down with downsampling).
    public var normalisationSeconds: Double = 1
    /// Time downsampling the DM plan may use at high DM (the boxcars then run on the coarser series).
    public var maxDownsample: Int = 64
    public var clustering = SinglePulseClustering()
    /// Interference excision before dedispersion (the same as the periodicity search's).
    public var rfi: RFIOptions = .off
    /// Memory for one batch of dedispersed series, bytes.
    public var memoryBudget: Int = 1 << 30

    public init() {}
}

/// What a single-pulse search found.
public struct SinglePulseReport: Sendable {
    /// Bursts (clusters not taken for interference), strongest first.
    public var events: [SinglePulseEvent]
    /// Clusters taken for interference (peaking at DM ~0, or spanning every DM).
    public var flagged: [SinglePulseEvent]
    public var dmPlan: DMPlan
    /// Boxcar hits before clustering.
    public var hits: Int
    public var duration: Double
    public var rfi: RFIReport?
}

/// The single-pulse search of a filterbank: interference excision, the DM plan and subband
/// dedispersion of the periodicity search, boxcar matched filtering of every DM trial (on the
/// downsampled series at high DM), and clustering across DM, time and width.
public struct SinglePulseSearch: Sendable {
    public var configuration: SinglePulseConfiguration
    public let planner: FFTPlanner

    public init(configuration: SinglePulseConfiguration, planner: FFTPlanner) {
        self.configuration = configuration
        self.planner = planner
    }

    public func search(_ raw: any SpectrumSource, startMJD: Double = 0, progress: (Int, Int) -> Void = { _, _ in }) throws -> SinglePulseReport {
        let cleaned = try SearchPipeline.clean(raw, options: configuration.rfi, mask: nil, planner: planner)
        let source: any SpectrumSource = cleaned ?? raw
        let geometry = source.geometry
        let duration = Double(source.spectrumCount) * source.sampleTime
        let dmMax = configuration.dmMax ?? DMPlan.defaultMaximum(geometry: geometry, duration: duration)
        let plan = DMPlan(geometry: geometry, dmMin: configuration.dmMin, dmMax: max(configuration.dmMin, dmMax),
                          maxDownsample: configuration.maxDownsample)
        let weights = try ChannelWeights.measure(source)
        let dedisperser = SubbandDedisperser(source: source, weights: weights)
        var hits: [SinglePulseHit] = []
        var done = 0
        for stage in plan.stages {
            let sampleTime = source.sampleTime * Double(stage.downsample)
            let length = source.spectrumCount / stage.downsample
            let boxcar = BoxcarSearch(
                maxWidth: configuration.maxWidth, sampleTime: sampleTime, threshold: configuration.snrThreshold,
                normalisationSeconds: configuration.normalisationSeconds, maxHits: 20_000)
            let perBatch = max(1, configuration.memoryBudget / max(1, length * MemoryLayout<Float>.size))
            var start = stage.trials.lowerBound
            while start < stage.trials.upperBound {
                let end = min(stage.trials.upperBound, start + perBatch)
                let dms = plan.trials[start..<end].map(\.dm)
                let block = try dedisperser.dedisperse(dms: dms, downsample: stage.downsample)
                for (i, dm) in dms.enumerated() {
                    hits += block.withSeries(i) { boxcar.search($0, sampleTime: sampleTime, dm: dm, dmIndex: start + i) }
                }
                done += dms.count
                progress(done, plan.trials.count)
                start = end
            }
        }
        var clustering = configuration.clustering
        clustering.timeSlack = max(clustering.timeSlack, source.sampleTime)
        let clusters = clustering.cluster(hits, dms: plan.trials.map(\.dm), startMJD: startMJD)
        return SinglePulseReport(
            events: clusters.filter { $0.rfi == nil }, flagged: clusters.filter { $0.rfi != nil }, dmPlan: plan, hits: hits.count,
            duration: duration, rfi: try cleaned?.report())
    }
}
