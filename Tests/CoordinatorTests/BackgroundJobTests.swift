import CoordinatorService
import CoordinatorStore
import CoordinatorTestSupport
import Foundation
import Testing
import XunxingClient

/// Background jobs run side by side: one that hangs holds up nobody else.
@Suite("Background jobs")
struct BackgroundJobTests {
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
                            datasetId: nil, kind: "credit", reverses: nil, hours: 0.5, estimatedHours: 0.5, reportedCpuSeconds: 0,
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
