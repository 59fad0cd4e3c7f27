import CoordinatorStore
import Foundation
import XunxingProtocol

/// What a start-up check of the data directory against the database found and did.
public struct FileReconciliation: Sendable, Equatable, CustomStringConvertible {
    /// Files and directories with no row naming them, removed.
    public var removedOrphans: [String] = []
    /// Datasets marked failed because a file their rows name is missing, with the reason.
    public var failedDatasets: [String: String] = [:]
    /// Units whose DM range was unknown (created before migration 2 recorded it, which defaulted
    /// it to 0 trials) and was read back from their payloads.
    public var repairedUnits: [String] = []

    /// Nothing found.
    public init() {}

    public var description: String {
        "\(removedOrphans.count) orphaned file(s) removed, \(failedDatasets.count) dataset(s) failed for missing files, \(repairedUnits.count) unit(s) given their DM range"
    }
}

extension CoordinatorCore {
    /// Compares the data directory with the database, as a start-up check after a crash: files no
    /// row names (an upload cut off, a payload written before its dataset's units were committed,
    /// a temporary export) are removed once older than `configuration.orphanGraceSeconds` (so that
    /// another coordinator's work in progress on a shared database is left alone); a dataset being
    /// split or searched whose filterbank or a payload of an unfinished unit is missing is marked
    /// failed with the path in its error, since its units could not be served. Datasets still
    /// being split are left to the splitter, which starts them again.
    public func reconcileFiles() async throws -> FileReconciliation {
        var report = FileReconciliation()
        let fm = FileManager.default
        let cutoff = Date(timeIntervalSince1970: clock.now() - configuration.orphanGraceSeconds)
        func old(_ path: String) -> Bool {
            guard let modified = (try? fm.attributesOfItem(atPath: path))?[.modificationDate] as? Date else { return false }
            return modified <= cutoff
        }
        func remove(_ path: String) {
            guard old(path), (try? fm.removeItem(atPath: path)) != nil else { return }
            report.removedOrphans.append(path)
        }
        func entries(_ directory: String) -> [String] {
            ((try? fm.contentsOfDirectory(atPath: directory)) ?? []).sorted().map { (directory as NSString).appendingPathComponent($0) }
        }

        let datasets = try await store.read { try await $0.datasets(owner: nil) }
        let byID = Dictionary(uniqueKeysWithValues: datasets.map { ($0.id, $0) })
        let datasetFiles = Set(datasets.map(\.filePath))
        for path in entries(configuration.uploadsDirectory) where path.hasSuffix(".part") { remove(path) }
        for path in entries(configuration.exportsDirectory) where path.hasSuffix(".tmp") { remove(path) }
        for path in entries(configuration.datasetsDirectory) where !datasetFiles.contains(path) { remove(path) }

        // Each dataset's units, read once for both checks below.
        var unitsOf: [String: [WorkUnitRecord]] = [:]
        func units(of id: String) async throws -> [WorkUnitRecord] {
            if let known = unitsOf[id] { return known }
            let read = try await store.read { try await $0.workUnits(dataset: id) }
            unitsOf[id] = read
            return read
        }

        for directory in entries(configuration.payloadsDirectory) {
            let id = (directory as NSString).lastPathComponent
            guard let dataset = byID[id] else {
                remove(directory)
                continue
            }
            guard dataset.state != DatasetState.splitting else { continue }
            let named = Set(try await units(of: id).map(\.payloadPath))
            for path in entries(directory) where !named.contains(path) { remove(path) }
        }

        for dataset in datasets where [DatasetState.splitting, DatasetState.searching].contains(dataset.state) {
            var missing: String? = nil
            if !fm.fileExists(atPath: dataset.filePath) {
                missing = "its filterbank \(dataset.filePath) is missing"
            } else if dataset.state == DatasetState.searching {
                if let unit = try await units(of: dataset.id).first(where: { $0.state == WorkUnitState.active && !fm.fileExists(atPath: $0.payloadPath) }) {
                    missing = "the payload \(unit.payloadPath) of work unit \(unit.id) is missing"
                }
            }
            guard let missing else { continue }
            let reason = "found at start-up: \(missing)"
            try await store.transaction { try await $0.setDatasetState(id: dataset.id, state: DatasetState.failed, error: reason) }
            report.failedDatasets[dataset.id] = reason
        }
        // Units from before migration 2 hold "0 DM trials", so every candidate of theirs would be
        // refused: their range is in their payload's header.
        for dataset in datasets where dataset.state == DatasetState.searching {
            for unit in try await units(of: dataset.id) where unit.dmCount == 0 && unit.state == WorkUnitState.active {
                guard let header = try? WorkUnitPayload.readHeader(path: unit.payloadPath), let first = header.dmIndices.first,
                    header.dmIndices == Array(first..<(first + header.dmIndices.count))
                else {
                    logger.error("work unit \(unit.id) has no DM range and its payload \(unit.payloadPath) does not give one")
                    continue
                }
                try await store.transaction { try await $0.setUnitDMRange(id: unit.id, first: first, count: header.dmIndices.count) }
                report.repairedUnits.append(unit.id)
            }
        }
        if !report.repairedUnits.isEmpty { logger.notice("\(report.repairedUnits.count) work unit(s) given the DM range of their payloads") }
        for path in report.removedOrphans { logger.warning("removed orphaned file \(path) (no database row names it)") }
        for (id, reason) in report.failedDatasets.sorted(by: { $0.key < $1.key }) { logger.error("dataset \(id) failed: \(reason)") }
        return report
    }
}
