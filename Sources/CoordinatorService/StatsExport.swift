import CoordinatorStore
import Foundation
import Hummingbird
import XunxingProtocol

extension Coordinator {
    func addStatsRoutes(to api: RouterGroup<CoordinatorRequestContext>) {
        // Exports for third-party stats sites, BOINC-style: regenerated when older than
        // `statsExportInterval` (an hour), then served as files.
        api.get("stats/:file") { _, context -> Response in
            let file = try context.parameters.require("file")
            guard let kind = StatsExportFormat.contentType(of: file) else {
                throw APIError.notFound("export \(file) (there are \(StatsExportFormat.files.joined(separator: ", ")))")
            }
            let path = try await self.writeExports()[file]!
            var headers = HTTPFields()
            headers[.contentType] = kind
            headers[.cacheControl] = "public, max-age=\(Int(min(3600, self.configuration.statsExportInterval)))"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(data: try Data(contentsOf: URL(fileURLWithPath: path)))))
        }

        // An operator regenerates the exports now (after correcting the ledger, say).
        api.post("admin/stats/regenerate") { request, _ -> Response in
            _ = try await self.authenticate(request, [.admin])
            try await self.writeExports(force: true)
            return Response(status: .noContent)
        }
    }

    /// Writes the exports into today's directory unless they exist and are younger than
    /// `statsExportInterval` (or `force`); returns their paths by file name. Each file is written
    /// aside, synced and renamed into place: readers never see half a file.
    @discardableResult
    func writeExports(force: Bool = false) async throws -> [String: String] {
        let now = Date().timeIntervalSince1970
        let directory = (configuration.exportsDirectory as NSString).appendingPathComponent(UTCDay.of(now))
        let paths = Dictionary(uniqueKeysWithValues: StatsExportFormat.files.map { ($0, (directory as NSString).appendingPathComponent($0)) })
        let fresh = paths.values.allSatisfy { path in
            guard let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date else { return false }
            return Date().timeIntervalSince(modified) < configuration.statsExportInterval
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
