import CoordinatorCore
import HTTPTypes
import CoordinatorStore
import Foundation
import Hummingbird
import WorkUnits
import XunxingProtocol

extension Coordinator {
    func addWorkRoutes(to api: RouterGroup<CoordinatorRequestContext>) {
        api.post("work/request") { request, context -> Response in
            let principal = try await self.authenticate(request, [.host])
            let work = try await JSONBody.decode(WorkRequest.self, from: request, limit: 64 << 10)
            try APIError.refusing { () throws(RequestBodyError) in try work.validate() }
            let network = self.replicaNetwork(of: self.client(request, context))
            return try JSONBody.response(
                try await self.core.scheduler.assign(host: principal.hostID!, account: principal.accountID, network: network, request: work))
        }

        api.post("replicas/:id/ack") { request, context -> Response in
            let principal = try await self.authenticate(request, [.host])
            try await self.core.scheduler.acknowledge(replica: try context.parameters.require("id"), host: principal.hostID!)
            return Response(status: .noContent)
        }

        // A host gives a replica up, saying why; the unit goes to someone else at once.
        api.post("replicas/:id/abandon") { request, context -> Response in
            let principal = try await self.authenticate(request, [.host])
            let body = try await JSONBody.decode(AbandonRequest.self, from: request, limit: 16 << 10)
            let reason = try APIError.refusing { () throws(RequestBodyError) in try body.validated() }
            _ = try await self.core.scheduler.abandon(replica: try context.parameters.require("id"), host: principal.hostID!, reason: reason,
                                   kind: body.kind ?? .other)
            return Response(status: .noContent)
        }

        api.get("workunits/:id/payload") { request, context -> Response in
            let principal = try await self.authenticate(request, [.host])
            let unitID = try context.parameters.require("id")
            // A read: every download of every payload must not queue behind the writer.
            let unit = try await self.store.read { tx -> WorkUnitRecord in
                guard let unit = try await tx.workUnit(id: unitID) else { throw APIError.notFound("work unit \(unitID)") }
                guard try await tx.hostHoldsUnit(host: principal.hostID!, workUnit: unitID) else {
                    throw APIError.forbidden("this host holds no replica of work unit \(unitID)")
                }
                return unit
            }
            return try await self.payloadResponse(unit, request: request, context: context)
        }

        api.post("replicas/:id/result") { request, context -> Response in
            let principal = try await self.authenticate(request, [.host])
            let replicaID = try context.parameters.require("id")
            let result = try await JSONBody.decode(WorkUnitResult.self, from: request, limit: self.configuration.maxResultBytes)
            let outcome = try await self.core.validator.report(replica: replicaID, host: principal.hostID!, result: result)
            return try JSONBody.response(ReportResponse(outcome: outcome))
        }
    }

    /// The payload file, whole or the byte range asked for (`Range: bytes=N-` or `N-M`).
    func payloadResponse(_ unit: WorkUnitRecord, request: Request, context: CoordinatorRequestContext) async throws -> Response {
        let size = Int(unit.payloadSize)
        var headers = HTTPFields()
        headers[.contentType] = "application/octet-stream"
        headers[.acceptRanges] = "bytes"
        headers[HTTPField.Name("X-Content-SHA256")!] = unit.payloadSha256
        let fileIO = FileIO()
        guard let rangeHeader = request.headers[.range] else {
            headers[.contentLength] = String(size)
            return Response(status: .ok, headers: headers, body: try await fileIO.loadFile(path: unit.payloadPath, context: context))
        }
        guard let range = Self.byteRange(rangeHeader, size: size) else {
            headers[.contentRange] = "bytes */\(size)"
            return Response(status: .rangeNotSatisfiable, headers: headers)
        }
        headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(size)"
        headers[.contentLength] = String(range.count)
        return Response(
            status: .partialContent, headers: headers,
            body: try await fileIO.loadFile(path: unit.payloadPath, range: range, context: context))
    }

    /// Parses a single `bytes=` range; nil when unsatisfiable.
    static func byteRange(_ header: String, size: Int) -> ClosedRange<Int>? {
        guard header.hasPrefix("bytes="), size > 0 else { return nil }
        let spec = header.dropFirst("bytes=".count)
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 else { return nil }
        if parts[0].isEmpty, let suffix = Int(parts[1]), suffix > 0 {
            return max(0, size - suffix)...(size - 1)
        }
        guard let start = Int(parts[0]), start >= 0, start < size else { return nil }
        let end = parts[1].isEmpty ? size - 1 : min(size - 1, Int(parts[1]) ?? -1)
        return end >= start ? start...end : nil
    }
}
