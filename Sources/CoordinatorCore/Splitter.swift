import CoordinatorStore
import Foundation
import PulsarSearch
import WorkUnits
import XunxingProtocol
import XunxingSupport

/// Splits submitted datasets into work units: dedispersion, the cost-balanced plan (stored with
/// the dataset), payloads on disk, then the units and their replicas in one transaction.
public struct Splitter: DomainService {
    let environment: CoordinatorEnvironment

    /// Splits every dataset waiting to be split. A split interrupted by a crash starts again from
    /// the beginning: its units are only inserted, all together, once every payload is on disk.
    public func splitPendingDatasets() async throws {
        let pending = try await store.read { try await $0.datasets(state: DatasetState.splitting) }
        try await eachDataset(pending, done: "split", split)
    }

    private func split(_ dataset: DatasetRecord) async throws {
        guard let preset = presets[dataset.preset] else {
            throw CoordinatorError.split(dataset: dataset.id, reason: "preset \(dataset.preset) no longer exists")
        }
        try await store.transaction { try await $0.deleteUnits(dataset: dataset.id) }
        let directory = (configuration.payloadsDirectory as NSString).appendingPathComponent(dataset.id)
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let budget = configuration.splitMemoryBudget
        let started = Date()

        let planner = environment.planner
        let (units, derivedPlan, rfi, timings, observation) = try await onThread {
            () throws -> ([WorkUnitRecord], DatasetSearchPlan, RFIReport?, SplitTimings, ObservationSummary) in
            let reader = try ObservationFile.open(dataset.filePath)
            // Interference out first: the mask, clipping and zero-DM the preset asks for.
            let cleaned = try SearchPipeline.clean(reader, options: preset.rfiOptions, mask: nil, planner: planner)
            let source: any SpectrumSource = cleaned ?? reader
            let derived = DatasetSearchPlan(reader: reader, preset: preset, dmMax: dataset.dmMax, accelMax: dataset.accelMax)
            let planned = WorkUnitPlanner.plan(
                dmPlan: derived.plan, spectra: reader.spectrumCount, sampleTime: reader.header.tsamp,
                accelMax: derived.accelMax, preset: preset)
            let weights = try ChannelWeights.measure(source)
            // Periodic interference at DM 0 goes into every unit's zap list with the preset's.
            let found = try SearchPipeline.birdies(
                of: cleaned, options: preset.rfiOptions, weights: weights, dms: derived.plan.trials.map(\.dm),
                lowDM: SiftParameters().minDM, minFrequency: preset.minFrequency, planner: planner)
            var search = preset.searchParameters
            search.birdies += found
            var splitter = PayloadSplitter(
                datasetID: dataset.id, dmPlan: derived.plan, units: planned, preset: preset, search: search)
            splitter.memoryBudget = budget
            var timings = SplitTimings()
            let payloads = try splitter.write(
                source: source, weights: weights, directory: directory,
                makeID: Secrets.identifier, timings: &timings)
            let records = try payloads.map { payload in
                let unit = payload.unit
                let attributes = try FileManager.default.attributesOfItem(atPath: payload.path)
                return WorkUnitRecord(
                    id: payload.workUnitID, datasetId: dataset.id, seq: payload.sequence, state: WorkUnitState.active,
                    payloadPath: payload.path, payloadSha256: try FileDigest.sha256(path: payload.path),
                    payloadSize: (attributes[.size] as? NSNumber)?.int64Value ?? 0,
                    estimatedCost: unit.estimatedCost, duration: Double(payload.samplesPerSeries) * payload.sampleTime,
                    reportingThreshold: preset.sigmaThreshold, seriesCount: unit.dmTrials.count * unit.accelerations.count,
                    targetResults: preset.replication, maxReplicas: preset.maxReplicas,
                    deadlineSeconds: preset.deadlineSeconds, canonicalReplica: nil,
                    createdAt: clock.now(), validatedAt: nil, dmFirst: unit.dmTrials.lowerBound,
                    dmCount: unit.dmTrials.count,
                    memoryMb: WorkUnitMemory.megabytes(seriesCount: unit.dmTrials.count, samplesPerSeries: payload.samplesPerSeries))
            }
            // Every payload was fsynced before its rename; the directory (and its entry in the
            // payloads directory) now, once, before the rows that name them are committed.
            try DurableFiles.syncDirectory(directory)
            try DurableFiles.syncDirectory(DurableFiles.directory(of: directory))
            // The split has read (and so cleaned) every block: the cleaning's report costs no pass of its own.
            var report = try cleaned?.report()
            report?.birdies = found
            return (records, derived, report, timings, ObservationSummary(reader))
        }

        // Stopped meanwhile (a shutdown): nothing is committed, and the next start splits it again.
        try Task.checkCancellation()
        let trials = derivedPlan.plan.trials.count
        // What the units were made from, kept for merging their results (not the preset file).
        let splitPlan = String(decoding: try WireCoding.encoder().encode(DatasetSplitPlan(preset: preset, search: derivedPlan, rfi: rfi, observation: observation)), as: UTF8.self)
        try await store.transaction { tx in
            for unit in units {
                try await tx.insertWorkUnit(unit)
                for _ in 0..<unit.targetResults {
                    try await tx.insertReplica(id: Secrets.identifier(), workUnit: unit.id, at: unit.createdAt)
                }
            }
            try await tx.setDatasetPlan(id: dataset.id, dmTrials: trials, duration: dataset.duration, splitPlan: splitPlan)
            try await tx.setDatasetState(id: dataset.id, state: DatasetState.searching)
        }
        logger.info("dataset \(dataset.id) split into \(units.count) work units (\(trials) DM trials) in \(String(format: "%.1f", Date().timeIntervalSince(started))) s (dedispersion \(String(format: "%.1f", timings.dedispersion)) s, payloads \(String(format: "%.1f", timings.payloads)) s)")
    }
}
