import CoordinatorStore
import Foundation
import PulsarSearch
import WorkUnits
import XunxingProtocol
import XunxingSupport

/// What an astronomer says about a dataset they submit.
public struct DatasetSubmission: Sendable {
    /// A name for people (cut to 200 characters).
    public var name: String
    /// The preset to split it with (nil: the coordinator's default).
    public var preset: String?
    public var dmMax: Double?
    public var accelMax: Double?
    /// The size the client declared, if any: refused at once when over the limit.
    public var declaredSize: Int64?
    /// The SHA-256 the client says the data has, if any: the upload is refused when it differs.
    public var sha256: String?

    public init(name: String = "dataset", preset: String? = nil, dmMax: Double? = nil, accelMax: Double? = nil,
                declaredSize: Int64? = nil, sha256: String? = nil) {
        self.name = name
        self.preset = preset
        self.dmMax = dmMax
        self.accelMax = accelMax
        self.declaredSize = declaredSize
        self.sha256 = sha256
    }
}

/// Taking in datasets: the upload streamed to disk and hashed as it arrives, its header checked
/// early, the file made durable under its final name before the row that names it.
public struct Submission: DomainService {
    let environment: CoordinatorEnvironment

    /// Ingests a dataset whose bytes arrive as `body` (any async sequence of byte chunks: an HTTP
    /// request body, a file read in blocks, a test's array).
    public func ingest<Body: AsyncSequence>(
        _ submission: DatasetSubmission, owner: String, body: Body
    ) async throws -> DatasetStatus where Body.Element: DataProtocol {
        let name = String(submission.name.prefix(200))
        let presetName = submission.preset ?? configuration.defaultPreset
        guard presets[presetName] != nil else {
            throw DomainError.invalid("preset '\(presetName)' does not exist; choose one of \(presets.keys.sorted().joined(separator: ", "))")
        }
        let (dmMax, accelMax) = (submission.dmMax, submission.accelMax)
        let limit = configuration.maxUploadBytes
        if let declared = submission.declaredSize, declared > limit {
            throw DomainError.tooLarge("upload of \(declared) bytes is over the limit of \(limit) bytes")
        }
        let expectedSHA = submission.sha256?.lowercased()

        let id = Secrets.identifier()
        let temporary = (configuration.uploadsDirectory as NSString).appendingPathComponent("\(id).part")
        guard FileManager.default.createFile(atPath: temporary, contents: nil), let handle = FileHandle(forWritingAtPath: temporary) else {
            throw DomainError.storage("cannot create \(temporary)")
        }
        var keep = false
        defer {
            try? handle.close()
            if !keep { try? FileManager.default.removeItem(atPath: temporary) }
        }
        var hasher = SHA256()
        var total: Int64 = 0
        var headerChecked = false
        for try await chunk in body {
            total += Int64(chunk.count)
            if total > limit { throw DomainError.tooLarge("upload is over the limit of \(limit) bytes") }
            hasher.update(data: chunk)
            try handle.write(contentsOf: chunk)
            if !headerChecked && total >= 1 << 16 {
                try checkHeader(at: temporary, name: name)
                headerChecked = true
            }
        }
        try handle.synchronize()
        try handle.close()
        if !headerChecked { try checkHeader(at: temporary, name: name) }
        let duration: Double
        let format: ObservationFile.Format
        do {
            let reader = try ObservationFile.open(temporary)
            duration = Double(reader.spectrumCount) * reader.header.tsamp
            format = try ObservationFile.format(of: temporary)
        } catch let error as FormatError {
            throw DomainError.invalid(error.description.replacingOccurrences(of: temporary, with: name))
        }
        let sha = FileDigest.hex(hasher.finalize())
        if let expectedSHA, expectedSHA != sha {
            throw DomainError.invalid("checksum mismatch: X-Content-SHA256 says \(expectedSHA), received data hashes to \(sha)")
        }

        let path = (configuration.datasetsDirectory as NSString).appendingPathComponent("\(id).\(format == .psrfits ? "fits" : "fil")")
        // Durable under its final name before the row that names it is committed.
        try DurableFiles.publish(temporary, as: path)
        keep = true
        let record = DatasetRecord(
            id: id, ownerId: owner, name: name, preset: presetName, state: DatasetState.splitting, filePath: path,
            sha256: sha, sizeBytes: total, dmMax: dmMax, accelMax: accelMax, dmTrials: 0, duration: duration, error: nil,
            createdAt: clock.now(), completedAt: nil)
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
            try ObservationFile.checkHeader(path)
        } catch let error as FormatError {
            throw DomainError.invalid(error.description.replacingOccurrences(of: path, with: name))
        }
    }

    /// A dataset's state and unit counts, as the API shows them.
    public func status(of record: DatasetRecord) async throws -> DatasetStatus {
        let counts = try await store.read { try await $0.unitCounts(dataset: record.id) }
        return DatasetStatus(
            state: record.state.rawValue, id: record.id, name: record.name, preset: record.preset, sizeBytes: record.sizeBytes,
            sha256: record.sha256, dmTrials: record.dmTrials,
            units: .init(total: counts.total, inProgress: counts.active, validated: counts.validated, error: counts.error),
            error: record.error, createdAt: Date(timeIntervalSince1970: record.createdAt),
            completedAt: record.completedAt.map { Date(timeIntervalSince1970: $0) },
            publishedAt: record.publishedAt.map { Date(timeIntervalSince1970: $0) },
            observation: record.splitPlan.flatMap { try? WireCoding.decoder().decode(DatasetSplitPlan.self, from: Data($0.utf8)).observation })
    }

    /// Publishes a dataset on the public pages (keeping the first publication's date), or takes
    /// it off them; returns its publication time (nil: private).
    public func setPublished(_ record: DatasetRecord, _ publish: Bool) async throws -> Double? {
        let time: Double? = publish ? (record.publishedAt ?? clock.now()) : nil
        try await store.transaction { try await $0.setDatasetPublished(id: record.id, at: time) }
        return time
    }
}
