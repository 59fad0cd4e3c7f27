import CoordinatorCore
import CoordinatorStore
import CoordinatorTestSupport
import Foundation
import Testing
import XunxingSupport

/// Time-bound rules of the domain tested by moving a ``ManualClock``: the daily cap per host
/// across a UTC midnight, and the profile sync's backoff after failures.
@Suite("The domain's clocks: daily caps and sync backoff, without sleeping")
struct DomainClockTests {
    typealias Domain = DomainCoreTests.Domain

    @Test("a host's daily cap holds until UTC midnight, not a second less, and starts again after it")
    func dailyCapAcrossMidnight() async throws {
        try await Domain.with { domain in
            let dataset = try await domain.submitAndSplit()
            let (account, host) = try await domain.host("a")
            let store = domain.core.store
            let template = try #require(try await store.read { try await $0.workUnits(dataset: dataset.id) }.first)
            var number = 0
            /// Credits a fresh 30-hour unit to the host now and returns its ledger entry.
            func creditBigUnit() async throws -> LedgerEntryRecord {
                number += 1
                var unit = template
                unit.id = "big-\(number)"
                unit.seq = 10_000 + number
                unit.estimatedCost = 30 * 3600
                let big = unit, replica = "big-replica-\(number)", now = domain.clock.now()
                try await store.transaction { tx in
                    try await tx.insertWorkUnit(big)
                    try await tx.insertReplica(id: replica, workUnit: big.id, at: now)
                    _ = try await tx.assignReplica(id: replica, host: host, account: account, at: now, deadline: now + 1e6)
                    try await domain.core.ledger.credit(replica: replica, unit: big, tx: tx)
                }
                return try #require(try await store.read { try await $0.ledgerEntry(replica: replica) })
            }
            // A new one-core host may earn one reference core's day: 24 of the unit's 30 hours.
            let first = try await creditBigUnit()
            #expect(first.estimatedHours == 30 && abs(first.hours - 24) < 1e-9, "\(first.hours)")
            let midnight = (floor(domain.clock.now() / 86_400) + 1) * 86_400
            #expect(try await creditBigUnit().hours == 0, "the day's cap is spent")
            domain.clock.advance(by: midnight - 1 - domain.clock.now())
            let lastSecond = try await creditBigUnit()
            #expect(lastSecond.hours == 0 && lastSecond.day == first.day, "one second before midnight is the same day")
            domain.clock.advance(by: 2)
            let nextDay = try await creditBigUnit()
            #expect(nextDay.day != first.day && abs(nextDay.hours - 24) < 1e-9, "\(nextDay.day): \(nextDay.hours)")
            #expect(UTCDay.of(midnight) == nextDay.day)
            let perDay = try await store.read { tx in
                (try await tx.creditedHours(host: host, day: first.day), try await tx.creditedHours(host: host, day: nextDay.day))
            }
            #expect(abs(perDay.0 - 24) < 1e-9 && abs(perDay.1 - 24) < 1e-9)
        }
    }

    @Test("the sync backoff: full jitter that doubles its reach with each failure up to the cap, never under half the base")
    func backoffGrowth() {
        let base = 60.0, cap = 600.0
        for failures in 1...6 {
            let delays = (0..<400).map { _ in ProfileSync.backoff(failures: failures, base: base, cap: cap) }
            let reach = min(cap, base * pow(2, Double(failures - 1)))
            #expect(delays.allSatisfy { $0 >= base / 2 && $0 <= reach }, "failure \(failures)")
            // Spread over the whole range: the largest of 400 draws is within 3% of the reach.
            #expect(delays.max()! > 0.97 * reach, "failure \(failures): max \(delays.max()!) of \(reach)")
        }
    }

    @Test("a failed profile sync is not retried before its backoff has passed, is retried after it, and delivers once")
    func syncBackoffByTheClock() async throws {
        let platform = ProfilePlatform(secret: "s3cret", refuse: [1, 2, 3], applyThenFail: [])
        try await platform.serve { url in
            let base = 60.0, cap = 600.0
            try await Domain.with(start: Date().timeIntervalSince1970, {
                $0.syncURL = url
                $0.syncSecret = "s3cret"
                $0.syncBackoffBase = base
                $0.syncBackoffCap = cap
            }) { domain in
                let clock = domain.clock
                platform.now = { clock.now() }
                let (account, _) = try await domain.core.accounts.signUp(email: "v@example.org", name: "v")
                try await domain.core.store.transaction { tx in
                    try await tx.linkPlatformProfile(account: account, profileID: "p-1")
                    try await tx.appendLedgerEntry(LedgerEntryRecord(
                        id: "e1", accountId: account, volunteerSeq: 1, hostId: nil, replicaId: nil, workUnitId: nil, datasetId: nil,
                        kind: .credit, reverses: nil, hours: 0.5, estimatedHours: 0.5, reportedCpuSeconds: 0,
                        day: UTCDay.of(clock.now()), createdAt: clock.now()))
                }
                func state() async throws -> VolunteerSyncRecord {
                    try #require(try await domain.core.store.read { try await $0.volunteerSync(account: account) })
                }
                for failures in 1...3 {
                    let failedAt = clock.now()
                    try await domain.core.profileSync.syncProfiles()
                    #expect(platform.requests == failures)
                    let after = try await state()
                    let wait = after.nextAttempt - failedAt
                    // Full jitter, at least half the base, at most base x 2^(failures-1) up to the cap.
                    #expect(after.failures == failures && wait >= base / 2 && wait <= min(cap, base * pow(2, Double(failures - 1))),
                            "failure \(failures): retry in \(wait) s")
                    // Passes before the retry time send nothing.
                    try await domain.core.profileSync.syncProfiles()
                    clock.advance(by: wait - 1)
                    try await domain.core.profileSync.syncProfiles()
                    #expect(platform.requests == failures, "retried \(platform.requests - failures) times before the backoff passed")
                    clock.advance(by: 1.001)
                }
                try await domain.core.profileSync.syncProfiles()
                #expect(platform.requests == 4 && platform.acknowledgedDeliveries == ["e1": 1])
                let synced = try await state()
                #expect(synced.failures == 0 && synced.syncedSeq == 1 && synced.lastSuccess == clock.now())
                // Nothing left to send: later passes do not call the platform.
                clock.advance(by: 3600)
                try await domain.core.profileSync.syncProfiles()
                #expect(platform.requests == 4)
            }
        }
    }
}
