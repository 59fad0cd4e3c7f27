import Foundation
import XunxingProtocol

/// The tasks and finished results in a state directory. Several threads use one store: each file
/// is replaced atomically, and each thread only changes the files of the tasks it owns (the
/// transfer thread: unverified tasks and results; a search thread: its running task).
public struct TaskStore: Sendable {
    public let state: StateDirectory

    public init(state: StateDirectory) {
        self.state = state
    }

    /// Replica ids become directory names: only letters, digits, `-` and `_` are accepted.
    public static func checkReplicaID(_ id: String) throws {
        let allowed = id.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x5F
        }
        guard !id.isEmpty, id.utf8.count <= 128, allowed else {
            throw WorkerError.unacceptableAssignment(
                field: "replica_id", value: "\"\(id)\"", reason: "expected 1-128 letters, digits, '-' or '_'")
        }
    }

    func assignmentFile(_ replica: String) -> String { (state.taskDirectory(replica) as NSString).appendingPathComponent("assignment.json") }
    func checkpointFile(_ replica: String) -> String { (state.taskDirectory(replica) as NSString).appendingPathComponent("checkpoint.json") }
    func resultFile(_ replica: String) -> String { (state.resultsDirectory as NSString).appendingPathComponent("\(replica).json") }

    /// The append-only log of `replica`'s trial outcomes (``TrialLog``).
    public func trialLogPath(_ replica: String) -> String {
        (state.taskDirectory(replica) as NSString).appendingPathComponent("trials.jsonl")
    }

    /// Where the payload of `replica` is stored.
    public func payloadPath(_ replica: String) -> String {
        (state.taskDirectory(replica) as NSString).appendingPathComponent("payload.xxwu")
    }

    // MARK: Tasks

    /// Every task held, oldest first. Directories without a record yet (being created) and tasks
    /// whose result is already stored are skipped; ``sweep()`` removes them at start.
    public func tasks() throws -> [TaskRecord] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: state.tasksDirectory)) ?? []
        var records: [TaskRecord] = []
        for name in names {
            guard (try? Self.checkReplicaID(name)) != nil else { continue }
            if FileManager.default.fileExists(atPath: resultFile(name)) { continue }
            guard let record = try AtomicFile.readJSON(TaskRecord.self, from: assignmentFile(name)) else { continue }
            records.append(record)
        }
        return records.sorted { ($0.receivedAt, $0.replicaID) < ($1.receivedAt, $1.replicaID) }
    }

    /// Removes what a killed worker can leave behind: task directories without a record (killed
    /// between creating the directory and writing the record) and tasks whose result is already
    /// stored (killed between storing the result and removing the task). Call only while no other
    /// thread uses the store (at the daemon's start).
    public func sweep() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: state.tasksDirectory)) ?? []
        for name in names {
            guard (try? Self.checkReplicaID(name)) != nil else { continue }
            if FileManager.default.fileExists(atPath: resultFile(name))
                || !FileManager.default.fileExists(atPath: assignmentFile(name)) {
                removeTask(name)
            }
        }
    }

    /// Saves (creates or replaces) a task record.
    public func save(_ record: TaskRecord) throws {
        try Self.checkReplicaID(record.replicaID)
        let directory = state.taskDirectory(record.replicaID)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw WorkerError.io(path: directory, operation: "create directory", reason: error.localizedDescription)
        }
        try AtomicFile.writeJSON(record, to: assignmentFile(record.replicaID))
    }

    /// The task of `replica`, if held.
    public func task(_ replica: String) throws -> TaskRecord? {
        try AtomicFile.readJSON(TaskRecord.self, from: assignmentFile(replica))
    }

    /// Removes a task and everything in its directory.
    public func removeTask(_ replica: String) {
        try? FileManager.default.removeItem(atPath: state.taskDirectory(replica))
    }

    // MARK: Checkpoints

    public func checkpoint(_ replica: String) throws -> Checkpoint? {
        try AtomicFile.readJSON(Checkpoint.self, from: checkpointFile(replica))
    }

    public func saveCheckpoint(_ checkpoint: Checkpoint, replica: String) throws {
        try AtomicFile.writeJSON(checkpoint, to: checkpointFile(replica))
    }

    public func removeCheckpoint(_ replica: String) {
        unlink(checkpointFile(replica))
    }

    // MARK: Results

    /// Stores a finished result, then removes its task: the result is durable before the work
    /// that produced it is forgotten.
    public func finish(_ pending: PendingResult) throws {
        try Self.checkReplicaID(pending.replicaID)
        try AtomicFile.writeJSON(pending, to: resultFile(pending.replicaID))
        removeTask(pending.replicaID)
    }

    /// Results awaiting upload, oldest first.
    public func pendingResults() throws -> [PendingResult] {
        try readResults(PendingResult.self).sorted { ($0.finishedAt, $0.replicaID) < ($1.finishedAt, $1.replicaID) }
    }

    /// What the status says of each result awaiting upload, oldest first: the same files as
    /// ``pendingResults()``, their candidates and toplists left undecoded (the daemon writes its
    /// status every loop; decoding every candidate of every waiting result each time was a
    /// measurable share of its CPU).
    public func pendingUploads() throws -> [PendingUploadStatus] {
        try readResults(PendingUploadHeader.self)
            .map { PendingUploadStatus(replicaID: $0.replicaID, workUnitID: $0.result.workUnitID, finishedAt: $0.finishedAt, attempts: $0.attempts) }
            .sorted { ($0.finishedAt, $0.replicaID) < ($1.finishedAt, $1.replicaID) }
    }

    /// Every result file decoded as `T`.
    private func readResults<T: Decodable>(_ type: T.Type) throws -> [T] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: state.resultsDirectory)) ?? []
        var results: [T] = []
        for name in names where name.hasSuffix(".json") && !name.contains(AtomicFile.temporaryMarker) {
            let path = (state.resultsDirectory as NSString).appendingPathComponent(name)
            if let result = try AtomicFile.readJSON(T.self, from: path) { results.append(result) }
        }
        return results
    }

    public func savePending(_ pending: PendingResult) throws {
        try AtomicFile.writeJSON(pending, to: resultFile(pending.replicaID))
    }

    /// Forgets an uploaded (or refused) result.
    public func removeResult(_ replica: String) {
        unlink(resultFile(replica))
        AtomicFile.syncDirectory(of: resultFile(replica))
    }
}
