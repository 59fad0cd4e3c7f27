import HTTPTypes
import CoordinatorStore
import Crypto
import Foundation
import Hummingbird
import PulsarSearch
import XunxingProtocol
import XunxingSupport

extension Coordinator {
    /// Streams an uploaded filterbank to disk: the size limit is enforced as bytes arrive, the
    /// SIGPROC header is checked as soon as it is in (a bad file is refused before the rest is
    /// read), the SHA-256 is computed on the way, and only a complete, valid file becomes a dataset.
    func ingest(_ request: Request, owner: String) async throws -> DatasetStatus {
        let query = request.uri.queryParameters
        let name = String((query["name"].map(String.init) ?? "dataset").prefix(200))
        let presetName = query["preset"].map(String.init) ?? configuration.defaultPreset
        guard presets[presetName] != nil else {
            throw APIError.badRequest("preset '\(presetName)' does not exist; choose one of \(presets.keys.sorted().joined(separator: ", "))")
        }
        let dmMax = try Self.nonNegative(query["dm_max"].map(String.init), field: "dm_max")
        let accelMax = try Self.nonNegative(query["accel_max"].map(String.init), field: "accel_max")
        let limit = configuration.maxUploadBytes
        if let declared = request.headers[.contentLength].flatMap({ Int64($0) }), declared > limit {
            throw APIError.tooLarge("upload of \(declared) bytes is over the limit of \(limit) bytes")
        }
        let expectedSHA = request.headers[HTTPField.Name("X-Content-SHA256")!]?.lowercased()

        let id = Secrets.identifier()
        let temporary = (configuration.uploadsDirectory as NSString).appendingPathComponent("\(id).part")
        guard FileManager.default.createFile(atPath: temporary, contents: nil), let handle = FileHandle(forWritingAtPath: temporary) else {
            throw APIError(.internalServerError, "storage", "cannot create \(temporary)")
        }
        var keep = false
        defer {
            try? handle.close()
            if !keep { try? FileManager.default.removeItem(atPath: temporary) }
        }
        var hasher = SHA256()
        var total: Int64 = 0
        var headerChecked = false
        for try await buffer in request.body {
            total += Int64(buffer.readableBytes)
            if total > limit { throw APIError.tooLarge("upload is over the limit of \(limit) bytes") }
            buffer.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
            try handle.write(contentsOf: Data(buffer: buffer))
            if !headerChecked && total >= 1 << 16 {
                try checkHeader(at: temporary, name: name)
                headerChecked = true
            }
        }
        try handle.synchronize()
        try handle.close()
        if !headerChecked { try checkHeader(at: temporary, name: name) }
        let duration: Double
        do {
            let reader = try FilterbankReader(path: temporary)
            duration = Double(reader.spectrumCount) * reader.header.tsamp
        } catch let error as FormatError {
            throw APIError.badRequest(error.description.replacingOccurrences(of: temporary, with: name))
        }
        let sha = FileDigest.hex(hasher.finalize())
        if let expectedSHA, expectedSHA != sha {
            throw APIError.badRequest("checksum mismatch: X-Content-SHA256 says \(expectedSHA), received data hashes to \(sha)")
        }

        let path = (configuration.datasetsDirectory as NSString).appendingPathComponent("\(id).fil")
        // Durable under its final name before the row that names it is committed.
        try DurableFiles.publish(temporary, as: path)
        keep = true
        let record = DatasetRecord(
            id: id, ownerId: owner, name: name, preset: presetName, state: DatasetState.splitting, filePath: path,
            sha256: sha, sizeBytes: total, dmMax: dmMax, accelMax: accelMax, dmTrials: 0, duration: duration, error: nil,
            createdAt: Date().timeIntervalSince1970, completedAt: nil)
        do {
            try await store.transaction { try await $0.insertDataset(record) }
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw error
        }
        metrics.datasetsSubmitted.increment()
        logger.info("dataset \(id) '\(name)' accepted: \(total) bytes, preset \(presetName)")
        return try await status(of: record)
    }

    private func checkHeader(at path: String, name: String) throws {
        do {
            _ = try SigprocHeader.decode(path: path)
        } catch let error as FormatError {
            throw APIError.badRequest(error.description.replacingOccurrences(of: path, with: name))
        }
    }

    static func nonNegative(_ text: String?, field: String) throws -> Double? {
        guard let text else { return nil }
        guard let value = Double(text), value.isFinite, value >= 0 else {
            throw APIError.badRequest("\(field) '\(text)' is not a non-negative number")
        }
        return value
    }
}
