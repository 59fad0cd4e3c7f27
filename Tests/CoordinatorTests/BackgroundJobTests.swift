import CoordinatorCore
import CoordinatorService
import CoordinatorStore
import CoordinatorTestSupport
import Foundation
import Testing
import XunxingClient
import XunxingSupport

/// Background jobs run side by side: one that hangs holds up nobody else.
@Suite("Background jobs")
struct BackgroundJobTests {
    @Test("fencing tokens: a renewal keeps the token, a takeover raises it, and a job whose lease was taken over commits nothing more", arguments: Backend.allCases)
    func fencing(backend: Backend) async throws {
        try await CoordinatorFixture.with(backend: backend) { f in
            let store = f.coordinator.store
            let now = Date().timeIntervalSince1970
            func take(_ holder: String, at time: Double) async throws -> Int? {
                try await store.transaction { try await $0.acquireLease("fence-probe", holder: holder, now: time, ttl: 10) }
            }
            let first = try #require(try await take("A", at: now))
            #expect(try await take("A", at: now + 5) == first, "a renewal in time keeps the token")
            #expect(try await take("B", at: now + 6) == nil, "B cannot take a live lease")
            #expect(try await take("B", at: now + 20) == first + 1, "a takeover after expiry raises it")
            #expect(try await take("A", at: now + 21) == nil)

            // A job under its lease: one write, then another coordinator takes the lease over (as
            // after a stall longer than the lease), then a second write, which must fail.
            let first1 = AccountRecord(id: "fenced-1", role: .volunteer, name: "one", createdAt: now)
            let second = AccountRecord(id: "fenced-2", role: .volunteer, name: "two", createdAt: now)
            var message = "nothing refused"
            do {
                try await f.coordinator.core.withLease("fence-job", ttl: 60) {
                    try await store.transaction { try await $0.insertAccount(first1) }
                    try await LeaseFence.$current.withValue(nil) {
                        try await store.transaction { tx in
                            try await tx.run("UPDATE job_leases SET expires_at = 0 WHERE name = 'fence-job'")
                            _ = try await tx.acquireLease("fence-job", holder: "another coordinator", now: Date().timeIntervalSince1970, ttl: 60)
                        }
                    }
                    try await store.transaction { try await $0.insertAccount(second) }
                }
            } catch {
                message = String(describing: error)
            }
            #expect(message.contains("lost its lease"), "\(message)")
            let written = try await store.read { tx in
                (try await tx.account(id: "fenced-1") != nil, try await tx.account(id: "fenced-2") != nil)
            }
            #expect(written.0 && !written.1, "\(written)")
        }
    }

    @Test("a profile platform that hangs does not hold a new dataset in splitting")
    func hangingPlatform() async throws {
        let platform = ProfilePlatform(secret: "s3cret", refuse: [], applyThenFail: [])
        platform.delay = 30
        try await platform.serve { syncURL in
            try await CoordinatorFixture.with(backend: .sqlite, {
                $0.syncURL = syncURL
                $0.syncSecret = "s3cret"
            }) { f in
                // Five volunteers linked to the platform with an entry each to push: one sync pass now
                // takes 5 x 30 s (the sync client's timeout) against this platform. Run one after
                // the other, as the jobs were, splitting would wait at least that long.
                for i in 0..<5 {
                    let volunteer = try await onThread {
                        try CoordinatorClient(baseURL: f.baseURL).signup(email: "v\(i)@example.org", name: "v\(i)")
                    }
                    _ = try await onThread {
                        try CoordinatorClient(baseURL: f.baseURL, secret: volunteer.accountKey).linkPlatform(code: f.linkCode(profileID: "p-\(i)"))
                    }
                    try await f.coordinator.store.transaction { tx in
                        try await tx.appendLedgerEntry(LedgerEntryRecord(
                            id: "e\(i)", accountId: volunteer.accountID, volunteerSeq: 1, hostId: nil, replicaId: nil, workUnitId: nil,
                            datasetId: nil, kind: .credit, reverses: nil, hours: 0.5, estimatedHours: 0.5, reportedCpuSeconds: 0,
                            day: "2026-12-06", createdAt: 0))
                    }
                }
                let deadline = Date().addingTimeInterval(10)
                while platform.requests == 0 && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
                #expect(platform.requests >= 1, "the sync never reached the platform")

                let astronomer = try await f.astronomer()
                let submitted = try await onThread {
                    try astronomer.submit(
                        file: CoordinatorFixture.dataPath("tutorial.fil"), name: "t", preset: "tiny", dmMax: nil, accelMax: nil, sha256: nil)
                }
                let started = Date()
                var state = submitted.state
                while state == "splitting" && Date().timeIntervalSince(started) < 90 {
                    try await Task.sleep(for: .milliseconds(100))
                    state = try await onThread { try astronomer.dataset(submitted.id).state }
                }
                let waited = Date().timeIntervalSince(started)
                #expect(state == "searching" && waited < 60, "after \(waited) s the dataset is \(state) (a sync pass takes 150 s)")
            }
        }
    }
}
