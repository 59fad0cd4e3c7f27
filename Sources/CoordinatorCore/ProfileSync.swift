import CoordinatorStore
import Foundation
import XunxingHTTPClient
import XunxingProtocol
import XunxingSupport

/// Pushes the ledger to the external volunteer-profile platform, signed, with backoff per volunteer.
public struct ProfileSync: DomainService {
    let environment: CoordinatorEnvironment
    /// Outbound HTTP to the platform, over libcurl.
    let client: HTTPClient

    /// Pushes each linked volunteer's new ledger entries to the profile platform, in order. New
    /// entries are first placed in a platform profile's stream (``SQLTransaction/placeInStreams``:
    /// numbered per profile, a reversal to the profile that received what it reverses), then each
    /// profile's unacknowledged entries go out as a signed batch, stamped with the time and the
    /// key id so the platform can refuse a captured batch replayed later. The platform applies
    /// each idempotency key once, so a batch resent after a lost acknowledgement does no harm. A
    /// failure is retried after an exponentially growing, jittered delay, and is visible in the
    /// volunteer's own profile and in the metrics.
    public func syncProfiles() async throws {
        guard let url = configuration.syncURL else { return }
        let now = clock.now()
        let due = try await store.read { try await $0.volunteersToSync(now: now, limit: 20) }
        for state in due {
            guard let profileID = state.platformProfileId else { continue }
            let streamed = try await store.transaction { tx -> [StreamedEntry] in
                try await tx.placeInStreams(account: state.accountId, profile: profileID)
                return try await tx.unacknowledgedStream(account: state.accountId, limit: self.configuration.syncBatchSize)
            }
            guard let first = streamed.first else { continue }
            let batch = SyncBatch(
                project: configuration.projectName, volunteerID: state.accountId, platformProfileID: first.profileID,
                sentAt: clock.now(), keyID: configuration.syncKeyID,
                entries: streamed.map {
                    SyncedLedgerEntry(
                        idempotencyKey: $0.entry.id, sequence: $0.profileSeq, kind: $0.entry.kind.rawValue, hours: $0.entry.hours,
                        day: $0.entry.day, reverses: $0.entry.reverses)
                })
            let body = try WireCoding.encoder().encode(batch)
            let signature = Self.signature(of: body, secret: configuration.syncSecret)
            let outcome: String?
            do {
                let response = try await client.send(
                    "POST", url: url,
                    headers: ["Content-Type": "application/json", "X-Xunxing-Signature": "sha256=\(signature)",
                              "X-Xunxing-Key-Id": configuration.syncKeyID], body: body)
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
                try await store.transaction { tx in
                    try await tx.acknowledgeStream(entries: streamed.map(\.entry.id))
                    try await tx.recordSyncSuccess(account: state.accountId, at: clock.now())
                }
                metrics.syncBatchesSent.increment()
            }
        }
        let pending = try await store.read { try await $0.unsyncedEntryCount() }
        metrics.syncPendingEntries.set(to: Double(pending))
    }

    /// Hex HMAC-SHA256 of `body` under `secret`.
    public static func signature(of body: Data, secret: String) -> String {
        FileDigest.hex(HMACSHA256.code(for: body, key: Data(secret.utf8)))
    }

    /// Full-jitter exponential backoff: uniformly up to base x 2^(failures-1), capped.
    public static func backoff(failures: Int, base: Double, cap: Double) -> Double {
        max(base / 2, Backoff.delay(failures: max(1, failures), base: base, cap: cap))
    }
}
