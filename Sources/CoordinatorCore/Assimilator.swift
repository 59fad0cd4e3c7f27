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
        let (units, results) = try await store.read { tx -> ([WorkUnitRecord], [String]) in
            let units = try await tx.workUnits(dataset: dataset.id)
            var results: [String] = []
            for unit in units where unit.state == WorkUnitState.validated {
                if let id = unit.canonicalReplica, let replica = try await tx.replica(id: id), let result = replica.result {
                    results.append(result)
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
        let decoder = WireCoding.decoder()
        let reported = try results.flatMap { try decoder.decode(WorkUnitResult.self, from: Data($0.utf8)).candidates }
        let foldCount = configuration.foldCount
        let floor = configuration.minFoldSigma
        let planner = environment.planner
        let candidates = try await onThread { () throws -> [Candidate] in
            let reader = try ObservationFile.open(dataset.filePath)
            let derived = stored ?? DatasetSearchPlan(reader: reader, preset: preset, dmMax: dataset.dmMax, accelMax: dataset.accelMax)
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
            return try SearchPipeline(configuration: configuration, planner: planner)
                .confirm(sifted, source: source, plan: derived.plan)
                .filter { ($0.foldSigma ?? 0) >= floor }
        }
        let encoder = WireCoding.encoder()
        let rows = try candidates.map { c in
            (periodS: c.periodS, dm: c.dm, sigma: c.sigma, dmIndex: c.dmIndex ?? -1,
             body: String(decoding: try encoder.encode(c), as: UTF8.self))
        }
        try await store.transaction { tx in
            try await tx.replaceCandidates(dataset: dataset.id, candidates: rows)
            try await tx.setDatasetState(id: dataset.id, state: DatasetState.complete, completedAt: clock.now())
        }
        metrics.datasetsCompleted.increment()
        logger.info("dataset \(dataset.id) complete: \(candidates.count) candidates from \(reported.count) detections")
    }
}
