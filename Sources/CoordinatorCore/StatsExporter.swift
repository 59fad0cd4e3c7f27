import CoordinatorStore
import Foundation
import XunxingProtocol

/// The project's statistics exports (volunteers, hosts, daily hours) in the formats other
/// projects' statistics sites read, written to the exports directory.
public struct StatsExporter: DomainService {
    let environment: CoordinatorEnvironment

    /// Writes the exports into today's directory unless they exist and are younger than
    /// `statsExportInterval` (or `force`); returns their paths by file name. Each file is written
    /// aside, synced and renamed into place: readers never see half a file.
    @discardableResult
    public func writeExports(force: Bool = false) async throws -> [String: String] {
        let now = clock.now()
        let directory = (configuration.exportsDirectory as NSString).appendingPathComponent(UTCDay.of(now))
        let paths = Dictionary(uniqueKeysWithValues: StatsExportFormat.files.map { ($0, (directory as NSString).appendingPathComponent($0)) })
        let fresh = paths.values.allSatisfy { path in
            guard let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date else { return false }
            return Date().timeIntervalSince(modified) < configuration.statsExportInterval  // a file's age, by the real clock
        }
        if fresh && !force { return paths }
        let firstDay = UTCDay.of(now - StatsExportFormat.averagingWindowDays * 86_400)
        let (volunteers, hosts, daily) = try await store.read { tx in
            (try await tx.exportVolunteers(), try await tx.exportHosts(), try await tx.dailyHours(from: firstDay))
        }
        let export = StatsExportFormat(volunteers: volunteers, hosts: hosts, daily: daily, now: now)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (name, data) in try export.files() {
            let temporary = paths[name]! + ".\(UUID().uuidString).tmp"
            try data.write(to: URL(fileURLWithPath: temporary))
            try DurableFiles.publish(temporary, as: paths[name]!)
        }
        return paths
    }
}
