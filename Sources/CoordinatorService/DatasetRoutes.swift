import CoordinatorStore
import Foundation
import Hummingbird
import PulsarSearch
import XunxingProtocol

extension Coordinator {
    func addDatasetRoutes(to api: RouterGroup<CoordinatorRequestContext>) {
        // The filterbank is the raw request body, streamed to disk; options are query parameters.
        api.post("datasets") { request, _ -> Response in
            let principal = try await self.authenticate(request, [.astronomer])
            let status = try await self.ingest(request, owner: principal.accountID)
            return try JSONBody.response(status, status: .created)
        }

        api.get("datasets") { request, _ -> Response in
            let principal = try await self.authenticate(request, [.astronomer])
            let owner = principal.role == .admin ? nil : principal.accountID
            let records = try await self.store.read { try await $0.datasets(owner: owner) }
            var statuses: [DatasetStatus] = []
            for record in records { statuses.append(try await self.status(of: record)) }
            return try JSONBody.response(statuses)
        }

        api.get("datasets/:id") { request, context -> Response in
            let record = try await self.ownedDataset(request, context)
            return try JSONBody.response(try await self.status(of: record))
        }

        api.get("datasets/:id/candidates") { request, context -> Response in
            let record = try await self.ownedDataset(request, context)
            let bodies = try await self.store.read { try await $0.candidateBodies(dataset: record.id) }
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: "[" + bodies.joined(separator: ",") + "]")))
        }
    }

    /// The dataset named in the path, if the caller owns it (or is an administrator).
    func ownedDataset(_ request: Request, _ context: CoordinatorRequestContext) async throws -> DatasetRecord {
        let principal = try await authenticate(request, [.astronomer])
        let id = try context.parameters.require("id")
        guard let record = try await store.read({ try await $0.dataset(id: id) }) else { throw APIError.notFound("dataset \(id)") }
        guard principal.role == .admin || record.ownerId == principal.accountID else {
            // Not revealing other astronomers' datasets: same answer as a missing one.
            throw APIError.notFound("dataset \(id)")
        }
        return record
    }

    func status(of record: DatasetRecord) async throws -> DatasetStatus {
        let counts = try await store.read { try await $0.unitCounts(dataset: record.id) }
        return DatasetStatus(
            state: record.state, id: record.id, name: record.name, preset: record.preset, sizeBytes: record.sizeBytes,
            sha256: record.sha256, dmTrials: record.dmTrials,
            units: .init(total: counts.total, inProgress: counts.active, validated: counts.validated, error: counts.error),
            error: record.error, createdAt: Date(timeIntervalSince1970: record.createdAt),
            completedAt: record.completedAt.map { Date(timeIntervalSince1970: $0) })
    }
}
