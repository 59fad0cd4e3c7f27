import Foundation
import XunxingClient
import XunxingProtocol

/// What the worker accepts from and about its coordinator: an https URL (plain http only to this
/// machine), and assignments whose payload is on the coordinator's own origin, of a size it
/// announced and the volunteer allows, needing no more memory than `memory_limit_mb`, no more of
/// them than `max_tasks`.
enum CoordinatorURLPolicy {
    /// Throws unless `url` is https, or http to a loopback host (127.0.0.0/8, ::1, localhost).
    static func check(_ url: String) throws {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            let host = components.host?.lowercased(), !host.isEmpty
        else {
            throw WorkerError.invalidSetting(field: "coordinator", value: url, expected: "a URL such as https://xunxing.example.org")
        }
        if scheme == "https" { return }
        let loopback = host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
        guard scheme == "http", loopback else {
            throw WorkerError.invalidSetting(
                field: "coordinator", value: url,
                expected: "an https:// URL (plain http only to this machine: 127.0.0.1, ::1 or localhost), so that the host key travels encrypted")
        }
    }

    /// Throws ``WorkerError/unacceptableAssignment(field:value:reason:)`` for an assignment the
    /// worker will not take: a payload URL off `coordinator`'s origin, a payload size that is not
    /// positive or over `maxPayloadBytes`, or one more task than `maxTasks` when `held` are held.
    static func check(_ assignment: Assignment, coordinator: String, maxPayloadBytes: Int64, held: Int, maxTasks: Int,
                      memoryLimitMB: Int = .max) throws {
        guard held < maxTasks else {
            throw WorkerError.unacceptableAssignment(
                field: "replica_id", value: assignment.replicaID, reason: "\(held) tasks are held already, the most allowed (max_tasks \(maxTasks))")
        }
        guard assignment.payloadSize > 0, assignment.payloadSize <= maxPayloadBytes else {
            throw WorkerError.unacceptableAssignment(
                field: "payload_size", value: String(assignment.payloadSize), reason: "expected 1 to \(maxPayloadBytes) bytes (max_payload_bytes)")
        }
        if let memory = assignment.memoryMB, memory > memoryLimitMB {
            throw WorkerError.unacceptableAssignment(
                field: "memory_mb", value: String(memory),
                reason: "the search needs more memory than memory_limit_mb (\(memoryLimitMB)) allows")
        }
        guard CoordinatorClient.resolve(assignment.payloadURL, onOriginOf: coordinator) != nil else {
            throw WorkerError.unacceptableAssignment(
                field: "payload_url", value: assignment.payloadURL,
                reason: "not on the coordinator's origin \(coordinator); the host key is never sent elsewhere")
        }
    }
}
