import CoordinatorCore
import CoordinatorStore
import Foundation
import HTTPTypes
import Hummingbird
import PulsarSearch
import XunxingProtocol

extension Coordinator {
    func addDatasetRoutes(to api: RouterGroup<CoordinatorRequestContext>) {
        // The filterbank is the raw request body, streamed to disk; options are query parameters.
        api.post("datasets") { request, _ -> Response in
            let principal = try await self.authenticate(request, [.astronomer])
            let status = try await self.core.submission.ingest(
                try Self.submission(request), owner: principal.accountID, body: request.body.map(\.readableBytesView))
            return try JSONBody.response(status, status: .created)
        }

        api.get("datasets") { request, _ -> Response in
            let principal = try await self.authenticate(request, [.astronomer])
            let owner = principal.role == .admin ? nil : principal.accountID
            let records = try await self.store.read { try await $0.datasets(owner: owner) }
            var statuses: [DatasetStatus] = []
            for record in records { statuses.append(try await self.core.submission.status(of: record)) }
            return try JSONBody.response(statuses)
        }

        api.get("datasets/:id") { request, context -> Response in
            let record = try await self.ownedDataset(request, context)
            return try JSONBody.response(try await self.core.submission.status(of: record))
        }

        // Datasets are private to their owner until published: then the public pages show them
        // and their candidates.
        api.post("datasets/:id/publish") { request, context -> Response in try await self.setPublished(request, context, true) }
        api.post("datasets/:id/unpublish") { request, context -> Response in try await self.setPublished(request, context, false) }

        api.get("datasets/:id/candidates") { request, context -> Response in
            let record = try await self.ownedDataset(request, context)
            let bodies = try await self.store.read { try await $0.candidateBodies(dataset: record.id) }
            return Self.jsonArray(bodies)
        }

        api.get("datasets/:id/single-pulse") { request, context -> Response in
            let record = try await self.ownedDataset(request, context)
            return Self.jsonArray(try await self.store.read { try await $0.singlePulseEventBodies(dataset: record.id) })
        }
    }

    /// A JSON array of stored JSON bodies.
    static func jsonArray(_ bodies: [String]) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: "[" + bodies.joined(separator: ",") + "]")))
    }

    /// Publishes the caller's dataset on the public pages (`publish`), or takes it off them.
    private func setPublished(_ request: Request, _ context: CoordinatorRequestContext, _ publish: Bool) async throws -> Response {
        let record = try await ownedDataset(request, context)
        let time = try await core.submission.setPublished(record, publish)
        pageCache.removeAll()
        var updated = record
        updated.publishedAt = time
        logger.info("dataset \(record.id) \(publish ? "published" : "made private")")
        return try JSONBody.response(try await core.submission.status(of: updated))
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

    /// A submission's options from the query (`name`, `preset`, `dm_max`, `accel_max`) and headers
    /// (`Content-Length`, `X-Content-SHA256`).
    static func submission(_ request: Request) throws -> DatasetSubmission {
        let query = request.uri.queryParameters
        return DatasetSubmission(
            name: query["name"].map(String.init) ?? "dataset", preset: query["preset"].map(String.init),
            dmMax: try nonNegative(query["dm_max"].map(String.init), field: "dm_max"),
            accelMax: try nonNegative(query["accel_max"].map(String.init), field: "accel_max"),
            declaredSize: request.headers[.contentLength].flatMap { Int64($0) },
            sha256: request.headers[HTTPField.Name("X-Content-SHA256")!])
    }

    static func nonNegative(_ text: String?, field: String) throws -> Double? {
        guard let text else { return nil }
        guard let value = Double(text), value.isFinite, value >= 0 else {
            throw APIError.badRequest("\(field) '\(text)' is not a non-negative number")
        }
        return value
    }
}
