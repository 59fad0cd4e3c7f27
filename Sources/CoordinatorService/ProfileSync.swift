import CoordinatorStore
import Crypto
import Foundation
import XunxingHTTPClient
import XunxingProtocol

extension Coordinator {
    /// Pushes each linked volunteer's new ledger entries to the profile platform, in order: a
    /// signed batch of the oldest unacknowledged entries; the platform applies each idempotency
    /// key once, so a batch resent after a lost acknowledgement does no harm. A failure is retried
    /// after an exponentially growing, jittered delay, and is visible in the volunteer's profile
    /// and in the metrics.
    func syncProfiles() async throws {
        guard let url = configuration.syncURL else { return }
        let now = Date().timeIntervalSince1970
        let due = try await store.transaction { try await $0.volunteersToSync(now: now, limit: 20) }
        for state in due {
            guard let profileID = state.platformProfileId else { continue }
            let entries = try await store.transaction {
                try await $0.ledger(account: state.accountId, after: state.syncedSeq, limit: self.configuration.syncBatchSize)
            }
            guard let last = entries.last else { continue }
            let batch = SyncBatch(
                project: configuration.projectName, volunteerID: state.accountId, platformProfileID: profileID,
                entries: entries.map {
                    SyncedLedgerEntry(idempotencyKey: $0.id, sequence: $0.volunteerSeq, kind: $0.kind, hours: $0.hours, day: $0.day, reverses: $0.reverses)
                })
            let body = try WireCoding.encoder().encode(batch)
            let signature = Self.signature(of: body, secret: configuration.syncSecret)
            let outcome: String?
            do {
                let response = try await syncClient.send(
                    "POST", url: url,
                    headers: ["Content-Type": "application/json", "X-Xunxing-Signature": "sha256=\(signature)"], body: body)
                outcome = (200..<300).contains(response.status)
                    ? nil : "platform answered \(response.status): \(String(decoding: response.body.prefix(200), as: UTF8.self))"
            } catch {
                outcome = "\(error)"
            }
            if let failure = outcome {
                let delay = Self.backoff(failures: state.failures + 1, base: configuration.syncBackoffBase, cap: configuration.syncBackoffCap)
                try await store.transaction {
                    try await $0.recordSyncFailure(account: state.accountId, error: failure, nextAttempt: now + delay)
                }
                metrics.syncFailures.increment()
                logger.warning("profile sync for volunteer \(state.accountId) failed (\(failure)); retry in \(Int(delay)) s")
            } else {
                try await store.transaction {
                    try await $0.recordSyncSuccess(account: state.accountId, through: last.volunteerSeq, at: Date().timeIntervalSince1970)
                }
                metrics.syncBatchesSent.increment()
            }
        }
        let pending = try await store.transaction { try await $0.unsyncedEntryCount() }
        metrics.syncPendingEntries.set(to: Double(pending))
    }

    /// Hex HMAC-SHA256 of `body` under `secret`.
    public static func signature(of body: Data, secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
        return mac.map { String(format: "%02x", $0) }.joined()
    }

    /// Full-jitter exponential backoff: uniformly up to base x 2^(failures-1), capped.
    static func backoff(failures: Int, base: Double, cap: Double) -> Double {
        let ceiling = min(cap, base * pow(2, Double(max(0, failures - 1))))
        return max(base / 2, Double.random(in: 0...ceiling))
    }
}
