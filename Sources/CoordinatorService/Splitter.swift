import CoordinatorStore
import Foundation
import PulsarSearch
import WorkUnits
import XunxingProtocol

/// What the splitter and the assimilator both derive from a dataset, identically each time.
struct DatasetPlan: Sendable {
    let plan: DMPlan
    let accelMax: Double
    let duration: Double

    init(dataset: DatasetRecord, preset: WorkUnitPreset, reader: FilterbankReader) {
        let geometry = reader.geometry
        duration = Double(reader.spectrumCount) * reader.header.tsamp
        let dmMax = dataset.dmMax ?? preset.dmMax ?? DMPlan.defaultMaximum(geometry: geometry, duration: duration)
        plan = DMPlan(geometry: geometry, dmMin: 0, dmMax: dmMax)
        accelMax = dataset.accelMax ?? preset.accelMax
    }
}

extension Coordinator {
    /// Splits every dataset waiting to be split. A split interrupted by a crash starts again from
    /// the beginning: its units are only inserted, all together, once every payload is on disk.
    func splitPendingDatasets() async throws {
        let pending = try await store.transaction { try await $0.datasets(state: DatasetState.splitting) }
        for dataset in pending {
            do {
                try await split(dataset)
            } catch {
                logger.error("dataset \(dataset.id) could not be split: \(error)")
                try await store.transaction {
                    try await $0.setDatasetState(id: dataset.id, state: DatasetState.failed, error: "\(error)")
                }
            }
        }
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

        let (units, trials) = try await runBlocking { () throws -> ([WorkUnitRecord], Int) in
            let reader = try FilterbankReader(path: dataset.filePath)
            let derived = DatasetPlan(dataset: dataset, preset: preset, reader: reader)
            let planned = WorkUnitPlanner.plan(
                dmPlan: derived.plan, spectra: reader.spectrumCount, sampleTime: reader.header.tsamp,
                accelMax: derived.accelMax, preset: preset)
            let dedisperser = SubbandDedisperser(source: reader, weights: try ChannelWeights.measure(reader))
            var search = SpectralSearchParameters()
            search.maxHarmonics = preset.harmonics
            search.sigmaThreshold = preset.sigmaThreshold
            search.minFrequency = preset.minFrequency
            search.maxCandidates = preset.maxCandidatesPerSeries

            var records: [WorkUnitRecord] = []
            var index = 0
            while index < planned.count {
                // A batch: consecutive units of one downsampling factor within the memory budget.
                let downsample = planned[index].downsample
                let length = reader.spectrumCount / downsample
                let perBatch = max(1, budget / max(1, length * MemoryLayout<Float>.size))
                var end = index
                var trialsInBatch = 0
                while end < planned.count && planned[end].downsample == downsample
                    && (end == index || trialsInBatch + planned[end].dmTrials.count <= perBatch)
                {
                    trialsInBatch += planned[end].dmTrials.count
                    end += 1
                }
                let batch = planned[index..<end]
                let firstTrial = batch.first!.dmTrials.lowerBound
                let dms = batch.flatMap { $0.dmTrials.map { derived.plan.trials[$0].dm } }
                let block = try dedisperser.dedisperse(dms: dms, downsample: downsample)
                for unit in batch {
                    let id = Secrets.identifier()
                    let path = (directory as NSString).appendingPathComponent("\(records.count)-\(id).xxwu")
                    let header = WorkUnitHeader(
                        version: WorkUnitHeader.currentVersion, workUnitID: id, datasetID: dataset.id,
                        sampleTime: block.sampleTime, downsample: downsample, samplesPerSeries: block.length,
                        dms: unit.dmTrials.map { derived.plan.trials[$0].dm }, dmIndices: Array(unit.dmTrials),
                        accelerations: unit.accelerations, search: search, bits: preset.bits, scales: [], offsets: [],
                        estimatedCost: unit.estimatedCost)
                    try block.data.withUnsafeBufferPointer { all in
                        try WorkUnitPayload.write(
                            header: header, bits: preset.bits, seriesCount: unit.dmTrials.count,
                            series: { i in
                                let start = (unit.dmTrials.lowerBound - firstTrial + i) * block.length
                                return UnsafeBufferPointer(rebasing: all[start..<(start + block.length)])
                            }, to: path)
                    }
                    let attributes = try FileManager.default.attributesOfItem(atPath: path)
                    records.append(WorkUnitRecord(
                        id: id, datasetId: dataset.id, seq: records.count, state: WorkUnitState.active, payloadPath: path,
                        payloadSha256: try sha256(ofFile: path), payloadSize: (attributes[.size] as? NSNumber)?.int64Value ?? 0,
                        estimatedCost: unit.estimatedCost, duration: Double(block.length) * block.sampleTime,
                        reportingThreshold: preset.sigmaThreshold, seriesCount: unit.dmTrials.count * unit.accelerations.count,
                        targetResults: preset.replication, maxReplicas: preset.maxReplicas,
                        deadlineSeconds: preset.deadlineSeconds, canonicalReplica: nil,
                        createdAt: Date().timeIntervalSince1970, validatedAt: nil, dmFirst: unit.dmTrials.lowerBound,
                        dmCount: unit.dmTrials.count))
                }
                index = end
            }
            return (records, derived.plan.trials.count)
        }

        try await store.transaction { tx in
            for unit in units {
                try await tx.insertWorkUnit(unit)
                for _ in 0..<unit.targetResults {
                    try await tx.insertReplica(id: Secrets.identifier(), workUnit: unit.id, at: unit.createdAt)
                }
            }
            try await tx.setDatasetPlan(id: dataset.id, dmTrials: trials, duration: dataset.duration)
            try await tx.setDatasetState(id: dataset.id, state: DatasetState.searching)
        }
        logger.info("dataset \(dataset.id) split into \(units.count) work units (\(trials) DM trials) in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
    }
}
