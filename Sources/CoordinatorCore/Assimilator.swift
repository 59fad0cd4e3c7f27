import CoordinatorStore
import Foundation
import PulsarSearch
import WorkUnits
import XunxingProtocol
import XunxingSupport

/// Merges a finished dataset's canonical results into its candidate list, folding the strongest.
public struct Assimilator: DomainService {
    let environment: CoordinatorEnvironment

    /// Merges the canonical results of every dataset whose units are all finished: sifting across
    /// DM trials and harmonics, then folding each of the strongest candidates from the stored data
    /// and keeping those whose fold reaches `minFoldSigma`.
    public func assimilateFinishedDatasets() async throws {
        let ready = try await store.read { try await $0.datasetsReadyToAssimilate() }
        try await eachDataset(ready, done: "assimilated", errorPrefix: "assimilation: ", assimilate)
    }

    /// The preset and plan a dataset was split with: stored at split time; for a dataset split
    /// before that was kept, derived again from the preset file as it is now.
    private func splitPlan(of dataset: DatasetRecord) throws -> (WorkUnitPreset, DatasetSearchPlan?) {
        if let json = dataset.splitPlan {
            let stored = try WireCoding.decoder().decode(DatasetSplitPlan.self, from: Data(json.utf8))
            return (stored.preset, stored.search)
        }
        guard let preset = presets[dataset.preset] else { throw CoordinatorError.configuration("preset \(dataset.preset) is gone") }
        logger.notice("dataset \(dataset.id) was split before split plans were kept: merging with preset \(dataset.preset) as it is now")
        return (preset, nil)
    }

    private func assimilate(_ dataset: DatasetRecord) async throws {
        let (preset, stored) = try splitPlan(of: dataset)
        let (units, results) = try await store.read { tx -> ([WorkUnitRecord], [(replica: String, json: String)]) in
            let units = try await tx.workUnits(dataset: dataset.id)
            var results: [(replica: String, json: String)] = []
            for unit in units where unit.state == WorkUnitState.validated {
                if let id = unit.canonicalReplica, let replica = try await tx.replica(id: id), let result = replica.result {
                    results.append((id, result))
                }
            }
            return (units, results)
        }
        guard units.isEmpty || !results.isEmpty else {
            try await store.transaction {
                try await $0.setDatasetState(id: dataset.id, state: DatasetState.failed, error: "every work unit failed validation")
            }
            return
        }
        let cache = decodedResults
        let decoded = try results.map { try cache.result(replica: $0.replica, json: $0.json) }
        let reported = decoded.flatMap(\.candidates)
        let hits = decoded.flatMap { $0.singlePulseHits ?? [] }
        let foldCount = configuration.foldCount
        let floor = configuration.minFoldSigma
        let planner = environment.planner, known = environment.knownPulsars, diagnosed = configuration.diagnosedCandidates
        let (candidates, events) = try await onThread { () throws -> ([Candidate], [SinglePulseEvent]) in
            let reader = try ObservationFile.open(dataset.filePath)
            let derived = stored ?? DatasetSearchPlan(reader: reader, preset: preset, dmMax: dataset.dmMax, accelMax: dataset.accelMax)
            var events = preset.singlePulseOptions == nil
                ? [] : Self.mergeEvents(hits, plan: derived.plan, sampleTime: reader.sampleTime, startMJD: reader.info.mjd)
            // Hosts' reports are not trusted with indexing: a detection must name a trial of the
            // plan, and is folded at that trial's DM whatever DM it claims.
            let detections = reported.compactMap { c -> SeriesCandidate? in
                guard derived.plan.trials.indices.contains(c.dmIndex) else { return nil }
                var c = c
                c.dm = derived.plan.trials[c.dmIndex].dm
                return c
            }
            var configuration = SearchConfiguration()
            configuration.sigmaThreshold = preset.sigmaThreshold + 1
            // Every candidate of the merged list is folded from the stored data, and one whose fold
            // shows nothing is left out: a report is a claim, the data are the evidence.
            configuration.foldCount = foldCount
            configuration.maxCandidates = foldCount
            let sifted = CandidateSifter(parameters: configuration.sift)
                .sift(detections, duration: derived.duration, dmTrialCount: derived.plan.trials.count)
            // Folded from the data as they were split: cleaned the same way (the mask is measured
            // again; it is a deterministic function of the data and the preset).
            let cleaned: CleanedSpectra? = try SearchPipeline.clean(reader, options: preset.rfiOptions, mask: nil, planner: planner)
            let source: any SpectrumSource = cleaned ?? reader
            // One measurement of the channel weights serves the bursts' plots, the folds and the diagnostics.
            let weights = try ChannelWeights.measure(source)
            // The strongest bursts' plots, from the cleaned data at each burst's DM.
            for i in events.indices.filter({ events[$0].rfi == nil }).prefix(Self.burstsPlotted) {
                events[i].diagnostics = BurstPlots(try BurstDiagnostics.measure(source, weights: weights, event: events[i]))
            }
            var confirmed = try SearchPipeline(configuration: configuration, planner: planner)
                .confirm(sifted, source: source, plan: derived.plan, weights: weights)
                .filter { ($0.foldSigma ?? 0) >= floor }
            // Re-detections of catalogued pulsars in the beam are marked (never a host's say).
            if let known, let ra = reader.info.raDegrees, let dec = reader.info.decDegrees {
                known.annotate(&confirmed, raDegrees: ra, decDegrees: dec, mjd: reader.info.mjd, duration: derived.duration)
            }
            // The strongest folded as prepfold does, scored, and ordered by that score.
            try CandidateDiagnosis.diagnose(&confirmed, source: source, observation: reader.info, top: diagnosed, weights: weights)
            return (confirmed, events)
        }
        let encoder = WireCoding.encoder()
        let rows = try candidates.map { c in
            (periodS: c.periodS, dm: c.dm, sigma: c.sigma, dmIndex: c.dmIndex ?? -1,
             body: String(decoding: try encoder.encode(c), as: UTF8.self))
        }
        let eventRows = try events.map { e in
            (timeSeconds: e.timeSeconds, dm: e.dm, snr: e.snr, body: String(decoding: try encoder.encode(e), as: UTF8.self))
        }
        try await store.transaction { tx in
            try await tx.replaceCandidates(dataset: dataset.id, candidates: rows)
            try await tx.replaceSinglePulseEvents(dataset: dataset.id, events: eventRows)
            try await tx.setDatasetState(id: dataset.id, state: DatasetState.complete, completedAt: clock.now())
        }
        metrics.datasetsCompleted.increment()
        logger.info("dataset \(dataset.id) complete: \(candidates.count) candidates from \(reported.count) detections, \(events.count) single-pulse events from \(hits.count) hits")
    }

    /// Bursts whose plots are measured and kept, strongest first.
    static let burstsPlotted = 5

    /// The single-pulse events of a dataset: every unit's boxcar hits clustered together across
    /// DM, time and width (``SinglePulseClustering``), so a burst seen by two units at their
    /// shared DM edge is one event. Hosts are not trusted with indexing: a hit must name a trial of
    /// the plan, and takes that trial's DM and sample time whatever it claims.
    static func mergeEvents(_ hits: [SinglePulseHit], plan: DMPlan, sampleTime: Double, startMJD: Double) -> [SinglePulseEvent] {
        let checked = hits.compactMap { h -> SinglePulseHit? in
            guard plan.trials.indices.contains(h.dmIndex), h.width >= 1, h.start >= 0, h.snr.isFinite else { return nil }
            var h = h
            h.dm = plan.trials[h.dmIndex].dm
            h.sampleTime = sampleTime * Double(plan.trials[h.dmIndex].downsample)
            return h
        }
        var clustering = SinglePulseClustering()
        clustering.timeSlack = sampleTime
        return clustering.cluster(checked, dms: plan.trials.map(\.dm), startMJD: startMJD)
    }
}
