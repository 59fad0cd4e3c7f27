import CoordinatorStore
import Foundation
import XunxingProtocol
import Hummingbird

extension Coordinator {
    func addStatsRoutes(to api: RouterGroup<CoordinatorRequestContext>) {
        // Daily exports for third-party stats sites: written once per UTC day, then served as files.
        api.get("stats/:file") { _, context -> Response in
            let file = try context.parameters.require("file")
            guard Self.exportFiles.contains(file) else {
                throw APIError.notFound("export \(file) (there are \(Self.exportFiles.joined(separator: ", ")))")
            }
            let path = try await self.writeDailyExports()[file]!
            var headers = HTTPFields()
            headers[.contentType] = file.hasSuffix(".csv") ? "text/csv; charset=utf-8" : "application/json"
            headers[.cacheControl] = "public, max-age=3600"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(data: try Data(contentsOf: URL(fileURLWithPath: path)))))
        }
    }

    static let exportFiles = ["volunteers.json", "volunteers.csv", "hosts.json", "hosts.csv"]

    /// Writes today's exports unless they exist and are younger than `statsExportInterval`
    /// (a day by default); returns their paths by name.
    @discardableResult
    func writeDailyExports() async throws -> [String: String] {
        let day = Self.utcDay(Date().timeIntervalSince1970)
        let directory = (configuration.exportsDirectory as NSString).appendingPathComponent(day)
        let paths = Dictionary(uniqueKeysWithValues: Self.exportFiles.map { ($0, (directory as NSString).appendingPathComponent($0)) })
        let fresh = paths.values.allSatisfy { path in
            guard let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date else { return false }
            return Date().timeIntervalSince(modified) < configuration.statsExportInterval
        }
        if fresh { return paths }
        let (volunteers, hosts) = try await store.read { tx in
            (try await tx.leaderboard(limit: 1_000_000), try await tx.hostTotals(account: nil))
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        func write(_ data: Data, _ name: String) throws {
            // Written aside and renamed into place: readers never see half a file.
            let temporary = paths[name]! + ".\(UUID().uuidString).tmp"
            try data.write(to: URL(fileURLWithPath: temporary))
            try DurableFiles.publish(temporary, as: paths[name]!)
        }
        try write(try encoder.encode(volunteers), "volunteers.json")
        // Hosts without their names or accounts: a host name often names its owner.
        let anonymous = hosts.map { PublicHost(hostId: $0.hostId, cores: $0.cores, hoursTotal: $0.hoursTotal, workUnits: $0.workUnits, lastSeen: $0.lastSeen) }
        try write(try encoder.encode(anonymous), "hosts.json")
        var csv = "account_id,name,hours_total,work_units,datasets_helped\n"
        for v in volunteers { csv += [v.accountId, v.name, String(v.hoursTotal), String(v.workUnits), String(v.datasetsHelped)].map(Self.csvField).joined(separator: ",") + "\n" }
        try write(Data(csv.utf8), "volunteers.csv")
        csv = "host_id,cores,hours_total,work_units,last_seen\n"
        for h in anonymous { csv += [h.hostId, String(h.cores), String(h.hoursTotal), String(h.workUnits), String(h.lastSeen)].map(Self.csvField).joined(separator: ",") + "\n" }
        try write(Data(csv.utf8), "hosts.csv")
        return paths
    }

    /// RFC 4180 quoting.
    static func csvField(_ s: String) -> String {
        s.contains(where: { ",\"\n\r".contains($0) }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }
}

/// A host as the public stats exports show it: no name, no account.
struct PublicHost: Encodable {
    var hostId: String
    var cores: Int
    var hoursTotal: Double
    var workUnits: Int
    var lastSeen: Double
}
