import CoordinatorCore
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
            let path = try await self.core.exports.writeExports()[file]!
            var headers = HTTPFields()
            headers[.contentType] = kind
            headers[.cacheControl] = "public, max-age=\(Int(min(3600, self.configuration.statsExportInterval)))"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(data: try Data(contentsOf: URL(fileURLWithPath: path)))))
        }

        // An operator regenerates the exports now (after correcting the ledger, say).
        api.post("admin/stats/regenerate") { request, _ -> Response in
            _ = try await self.authenticate(request, [.admin])
            try await self.core.exports.writeExports(force: true)
            return Response(status: .noContent)
        }
    }
}
