import Foundation
import XunxingClient
import XunxingProtocol
import XunxingSupport

/// Gives tasks up: tells the coordinator, which sends the unit to another host at once (when it
/// cannot be reached it finds out at the unit's deadline), deletes the task, and keeps the reason
/// as the status's last error. The one place the worker abandons work: after repeated failures,
/// for a full disk, a refused assignment, or when the volunteer detaches.
struct TaskAbandoner: Sendable {
    let api: CoordinatorClient
    let store: TaskStore
    let shared: Locked<DaemonState>?
    let log: LogFolder

    /// Abandons `replica` for `reason` (a sentence the volunteer and the coordinator's operators
    /// read); returns whether the coordinator was told (or answered that the replica is no longer
    /// this host's).
    @discardableResult
    func giveUp(_ replica: String, kind: AbandonKind, reason: String, deleteTask: Bool = true) -> Bool {
        let message = "gave up replica \(replica): \(reason)"
        log.log(.error, message)
        shared?.with { $0.lastError = WorkerProblem(message) }
        var told = true
        do {
            try api.abandon(replica: replica, reason: reason, kind: kind)
        } catch CoordinatorClientError.api(let status, _, _) where [403, 404, 409].contains(status) {
            // The coordinator answered: the replica is no longer this host's to give (reissued
            // after its deadline, or its result is in). Nothing more to tell.
        } catch {
            told = false
            log.log(.warning, "could not tell the coordinator that replica \(replica) was given up: \(error)")
        }
        if deleteTask { store.removeTask(replica) }
        return told
    }
}
