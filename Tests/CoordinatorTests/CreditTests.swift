import CoordinatorCore
import CoordinatorService
import CoordinatorStore
import CoordinatorTestSupport
import Foundation
import PulsarSearch
import Testing
import WorkUnits
import XunxingProtocol
import XunxingSupport

@Suite("Credited hours: the peaks measured, and the daily cap from demonstrated speed")
struct CreditTests {
    /// Reference cores by brute force: the cost over the measure of the union of the intervals,
    /// the union measured on a grid of `steps` points over the whole span.
    static func bruteForceCores(_ work: [HeldWork], steps: Int = 200_000) -> Double {
        let lo = work.map(\.sentAt).min()!, hi = work.map(\.reportedAt).max()!
        let dt = (hi - lo) / Double(steps)
        var covered = 0
        for i in 0..<steps {
            let t = lo + (Double(i) + 0.5) * dt
            if work.contains(where: { $0.sentAt <= t && t < $0.reportedAt }) { covered += 1 }
        }
        return work.reduce(0) { $0 + $1.estimatedCost } / (Double(covered) * dt)
    }

    @Test("ledger hours are whole quanta: credits and their reversals, added in any order, total exactly 0 (and raw hours would not)")
    func quantizedHoursCancel() {
        var generator = SystemRandomNumberGenerator()
        var rawResidues = 0
        for _ in 0..<200 {
            let raw = (0..<Int.random(in: 2...40, using: &generator)).map { _ in Double.random(in: 1e-4...50, using: &generator) }
            let quantized = raw.map(LedgerEntryRecord.quantized)
            #expect(zip(raw, quantized).allSatisfy { $1 <= $0 && $0 - $1 < LedgerEntryRecord.hoursQuantum })
            // Credits first, then their reversals in another order: what a database's SUM sees.
            func total(_ hours: [Double]) -> Double { (hours + hours.shuffled(using: &generator).map { -$0 }).reduce(0, +) }
            #expect(total(quantized) == 0)
            if total(raw) != 0 { rawResidues += 1 }
        }
        // The same sums of unquantized hours leave residues: this test can tell the two apart.
        #expect(rawResidues > 50)
    }

    @Test("demonstrated cores: cost over the union of the held intervals, against a brute-force union on random intervals")
    func demonstratedCoresAgainstBruteForce() {
        for seed in 1...20 {
            var rng = SeededGenerator(seed: UInt64(seed))
            // Clusters of overlapping, nested and disjoint intervals with unequal costs.
            let work = (0..<(3 + seed % 9)).map { _ -> HeldWork in
                let start = (rng.uniform() * 4).rounded(.down) * 1000 + rng.uniform() * 900
                return HeldWork(sentAt: start, reportedAt: start + 1 + rng.uniform() * 600, estimatedCost: 10 + rng.uniform() * 1000)
            }
            let fast = HostDailyCap.demonstratedCores(work.shuffled())
            let slow = Self.bruteForceCores(work)
            #expect(abs(fast - slow) <= 2e-3 * slow, "seed \(seed): \(fast) vs \(slow)")
        }
        #expect(HostDailyCap.demonstratedCores([]) == 0)
        // Ten units held together for 30 min, 1 h of reference work each: 20 reference cores.
        let parallel = (0..<10).map { _ in HeldWork(sentAt: 0, reportedAt: 1800, estimatedCost: 3600) }
        #expect(abs(HostDailyCap.demonstratedCores(parallel) - 20) < 1e-12)
        // The same ten one after another: 2 reference cores.
        let serial = (0..<10).map { HeldWork(sentAt: Double($0) * 1800, reportedAt: Double($0 + 1) * 1800, estimatedCost: 3600) }
        #expect(abs(HostDailyCap.demonstratedCores(serial) - 2) < 1e-12)
    }

    @Test("a host claiming 100x speed gets one reference core's day until it shows more; then 1.5x what it showed; a low claim lowers it", arguments: Backend.allCases)
    func capFollowsDemonstratedSpeed(backend: Backend) async throws {
        try await CoordinatorFixture.with(backend: backend, { $0.trustThreshold = 1_000_000 }) { f in
            let astronomer = try await f.astronomer()
            let dataset = try await f.submitAndSplit(try f.simulatedObservation(), astronomer: astronomer)
            let host = try await f.host(name: "boaster")
            // Its claim: speed 100 (its benchmark), one core (as registered).
            _ = try await onThread { try host.client.requestWork(WorkRequest(cores: 1, memoryMB: 512, speed: 100, seconds: 0)) }
            let store = f.coordinator.store
            let template = try #require(try await store.transaction { try await $0.workUnits(dataset: dataset.id) }.first)
            let account = try #require(try await store.transaction { try await $0.host(id: host.hostID) }?.accountId)
            #expect(try await store.transaction { try await $0.host(id: host.hostID) }?.speed == 100)

            /// A unit of `hours` reference-core hours held by the host from `sent` to `reported`.
            func unit(_ name: String, hours: Double, sent: Double, reported: Double?, credit: Bool) async throws -> Double {
                var u = template
                u.id = name
                u.seq = 1_000 + Int.random(in: 0..<1_000_000)
                u.estimatedCost = hours * 3600
                let made = u
                return try await store.transaction { tx in
                    try await tx.insertWorkUnit(made)
                    try await tx.insertReplica(id: name + "-r", workUnit: made.id, at: sent)
                    _ = try await tx.assignReplica(id: name + "-r", host: host.hostID, account: account, at: sent, deadline: 1e12)
                    if let reported {
                        try await tx.storeResult(replica: name + "-r", json: "{}", cpuSeconds: 1, peaks: 0, at: reported)
                        try await tx.setReplicaState(id: name + "-r", state: ReplicaState.valid)
                    }
                    if credit { try await f.coordinator.core.ledger.credit(replica: name + "-r", unit: made, tx: tx) }
                    return try await tx.ledgerEntry(replica: name + "-r")?.hours ?? -1
                }
            }
            let now = Date().timeIntervalSince1970
            // No validated work yet: one reference core's day, whatever the claim.
            #expect(try await unit("first", hours: 30, sent: now - 60, reported: nil, credit: true) == 24)
            // Ten units of one reference-core hour each, held together for 30 minutes: 20 cores shown.
            for i in 0..<10 { _ = try await unit("shown\(i)", hours: 1, sent: now - 7200, reported: now - 5400, credit: false) }
            // Cap 24 h x min(claim 100, 1.5 x 20) = 720 h; 24 h already credited today.
            let second = try await unit("second", hours: 1000, sent: now - 60, reported: nil, credit: true)
            #expect(abs(second - 696) < 1e-6, "\(second)")
            #expect(try await unit("third", hours: 5, sent: now - 60, reported: nil, credit: true) == 0)

            // The same record with a claim of half a reference core: the claim lowers the cap to 12 h.
            _ = try await onThread { try host.client.requestWork(WorkRequest(cores: 1, memoryMB: 512, speed: 0.5, seconds: 0)) }
            let record = try #require(try await store.transaction { try await $0.host(id: host.hostID) })
            let work = try await store.transaction { try await $0.recentValidWork(host: host.hostID, limit: HostDailyCap.window) }
            #expect(work.count == 10)
            #expect(abs(HostDailyCap.hours(host: record, work: work) - 12) < 1e-9)
        }
    }

    @Test("a unit's credit adds the peaks measured, counted as the fewest any of its valid results reports", arguments: Backend.allCases)
    func peaksCredit(backend: Backend) async throws {
        try await CoordinatorFixture.with(backend: backend, { $0.trustThreshold = 1_000_000 }) { f in
            let astronomer = try await f.astronomer()
            let dataset = try await f.submitAndSplit(try f.simulatedObservation(), astronomer: astronomer)
            let honest = try await f.host(name: "honest"), boaster = try await f.host(name: "boaster")
            let store = f.coordinator.store
            var unit = try #require(try await store.transaction { try await $0.workUnits(dataset: dataset.id) }.first)
            unit.id = "peaks-unit"
            unit.seq = 99_999
            unit.estimatedCost = 36
            let made = unit
            let now = Date().timeIntervalSince1970
            // The honest host measured 40 peaks; the boaster claims 5000 for the same unit.
            let hours = try await store.transaction { tx -> [Double] in
                try await tx.insertWorkUnit(made)
                var credited: [Double] = []
                for (host, peaks) in [(honest, 40), (boaster, 5000)] {
                    let id = "peaks-\(host.name)"
                    let account = try await tx.host(id: host.hostID)!.accountId
                    try await tx.insertReplica(id: id, workUnit: made.id, at: now)
                    _ = try await tx.assignReplica(id: id, host: host.hostID, account: account, at: now, deadline: 1e12)
                    try await tx.storeResult(replica: id, json: "{}", cpuSeconds: 1, peaks: peaks, at: now)
                }
                // As the validator does: both judged valid, then each credited (the boaster first).
                for host in [honest, boaster] { try await tx.setReplicaState(id: "peaks-\(host.name)", state: ReplicaState.valid) }
                for host in [boaster, honest] {
                    let id = "peaks-\(host.name)"
                    try await f.coordinator.core.ledger.credit(replica: id, unit: made, tx: tx)
                    credited.append(try await tx.ledgerEntry(replica: id)!.hours)
                }
                return credited
            }
            let expected = LedgerEntryRecord.quantized((36 + 40 * CostModel.reference.secondsPerPeak) / 3600)
            #expect(hours.allSatisfy { abs($0 - expected) < 1e-12 }, "\(hours) vs \(expected)")
            #expect(CostModel.reference.secondsPerPeak > 0)
        }
    }
}
