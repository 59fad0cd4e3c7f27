import CoordinatorCore
import CoordinatorService
import CoordinatorStore
import CoordinatorTestSupport
import Foundation
import PulsarSearch
import Testing
import XunxingClient
import XunxingProtocol
import XunxingSupport

/// Hours that cannot be forged, tried as an attacker would: each test runs the attack against a
/// coordinator on loopback and counts what got through.
@Suite("Forged results", .serialized)
struct AttackTests {
    /// Hours credited to each host, net of reversals.
    static func hours(_ f: CoordinatorFixture) async throws -> [String: Double] {
        let totals = try await f.coordinator.store.read { try await $0.hostTotals(account: nil) }
        return Dictionary(totals.map { ($0.hostId, $0.hoursTotal) }, uniquingKeysWith: +)
    }

    @Test("two accounts that never search take every unit first: caught, 0 hours; honest volunteers credited; the pulsar on top", arguments: Backend.allCases)
    func cheatersFirst(backend: Backend) async throws {
        try await CoordinatorFixture.with(backend: backend) { f in
            let astronomer = try await f.astronomer()
            let dataset = try await f.submitAndSplit(try f.simulatedObservation(samples: 1 << 16), astronomer: astronomer, dmMax: 400)
            let units = dataset.units.total
            #expect(units >= 3, "the tiny preset should cut several units")
            let cheaters = [try await f.host(name: "cheat-1"), try await f.host(name: "cheat-2")]
            // Each cheater takes one replica of every unit (a host never gets two of one unit).
            async let c1 = cheaters[0].work(limit: units, behaviour: .forge)
            async let c2 = cheaters[1].work(limit: units, behaviour: .forge)
            let forged = try await c1 + c2
            #expect(forged.count == 2 * units)
            #expect(forged.allSatisfy { $0 == "invalid" }, "\(forged)")
            let honest = [try await f.host(name: "honest-1"), try await f.host(name: "honest-2")]
            async let h1 = honest[0].work()
            async let h2 = honest[1].work()
            let outcomes = try await h1 + h2
            #expect(outcomes.count == 2 * units && outcomes.filter { $0 == "valid" }.count == units, "\(outcomes)")
            try await f.waitUntil(timeout: 60, "dataset complete") { try await onThread { try astronomer.dataset(dataset.id).state } == "complete" }
            // Every unit rests on exactly the two honest results.
            let honestIDs = Set(honest.map(\.hostID))
            for unit in try await f.coordinator.store.read({ try await $0.workUnits(dataset: dataset.id) }) {
                let replicas = try await f.coordinator.store.read { try await $0.replicas(workUnit: unit.id) }
                let valid = replicas.filter { $0.state == ReplicaState.valid }.compactMap(\.hostId)
                #expect(unit.state == WorkUnitState.validated && Set(valid) == honestIDs && valid.count == 2, "\(unit.id): \(replicas.map { ($0.hostId ?? "-", $0.state) })")
            }

            let hours = try await Self.hours(f)
            for c in cheaters { #expect((hours[c.hostID] ?? 0) == 0, "\(c.name) earned \(hours[c.hostID] ?? 0) h") }
            for h in honest { #expect((hours[h.hostID] ?? 0) > 0, "\(h.name) earned nothing") }
            let ledger = try await f.coordinator.store.read { tx in
                try await cheaters.asyncMap { try await tx.unreversedCredits(host: $0.hostID) }.flatMap { $0 }
            }
            #expect(ledger.isEmpty)

            let candidates = try await onThread { try astronomer.candidates(dataset.id) }
            let top = try #require(candidates.first)
            #expect(abs(top.periodS - 0.1234) / 0.1234 < 1e-3, "top candidate P = \(top.periodS)")
            #expect(!candidates.contains { abs($0.frequencyHz - 123.456) < 0.5 }, "the invented candidate was merged")
            let metrics = try f.httpGet("/metrics")
            #expect(metrics.contains("xunxing_results_forged_total \(2 * units)"), "\(metrics.split(separator: "\n").filter { $0.contains("forged") })")
        }
    }

    @Test("a trusted host that starts forging loses every hour it earned, and the units it alone validated are searched again")
    func trustedHostTurns() async throws {
        try await CoordinatorFixture.with({ $0.trustThreshold = 2; $0.spotCheckRate = 0; $0.auditResearchRate = 0; $0.schedulingWindow = 1 }) { f in
            let astronomer = try await f.astronomer()
            let dataset = try await f.submitAndSplit(try f.simulatedObservation(samples: 1 << 16), astronomer: astronomer, dmMax: 1000)
            #expect(dataset.units.total >= 5)
            let turncoat = try await f.host(name: "turncoat")
            let partner = try await f.host(name: "partner")
            for _ in 0..<2 {
                #expect(try await turncoat.work(limit: 1) == ["reported"])
                #expect(try await partner.work(limit: 1) == ["valid"])
            }
            // Trusted now: two units validated on its result alone.
            #expect(try await turncoat.work(limit: 2) == ["valid", "valid"])
            let earned = try await f.coordinator.store.read { try await $0.unreversedCredits(host: turncoat.hostID) }
            #expect(earned.count == 4)
            let alone = try await f.coordinator.store.read { tx in
                try await tx.workUnits(dataset: dataset.id).filter { $0.targetResults == 1 && $0.state == WorkUnitState.validated }
            }
            #expect(alone.count == 2)

            // Then it forges one result: caught by a spot check.
            #expect(try await turncoat.work(limit: 1, behaviour: .forge) == ["invalid"])
            let store = f.coordinator.store
            let after = try await store.read { tx in
                (try await tx.unreversedCredits(host: turncoat.hostID), try await tx.host(id: turncoat.hostID)?.validStreak)
            }
            #expect(after.0.isEmpty, "credits left: \(after.0.count)")
            #expect(after.1 == 0)
            #expect(try await Self.hours(f)[turncoat.hostID] ?? 0 == 0)
            // Exactly one reversal per credit, each naming it.
            let reversals = try await store.read { tx in
                try await earned.asyncMap { try await tx.reversal(of: $0.id) }
            }
            #expect(reversals.allSatisfy { $0 != nil } && Set(reversals.compactMap { $0?.id }).count == earned.count)
            // Its units are out again: the two it validated alone and the two it shared, each now
            // needing a second result; the partner's credits stand.
            let reopened = try await store.read { tx in
                try await tx.workUnits(dataset: dataset.id).filter { u in alone.contains { $0.id == u.id } }
            }
            #expect(reopened.allSatisfy { $0.state == WorkUnitState.active && $0.targetResults == 2 }, "\(reopened.map { ($0.state, $0.targetResults) })")
            #expect(try await Self.hours(f)[partner.hostID] ?? 0 > 0)

            // The partner and a newcomer finish everything; the dataset completes with the pulsar.
            let newcomer = try await f.host(name: "newcomer")
            async let p = partner.work()
            async let n = newcomer.work()
            _ = try await p + n
            try await f.waitUntil(timeout: 60, "dataset complete") { try await onThread { try astronomer.dataset(dataset.id).state } == "complete" }
            let units = try await store.read { try await $0.workUnits(dataset: dataset.id) }
            #expect(units.allSatisfy { $0.state == WorkUnitState.validated })
            for unit in units {
                let replicas = try await store.read { try await $0.replicas(workUnit: unit.id) }
                #expect(!replicas.contains { $0.hostId == turncoat.hostID && $0.state == ReplicaState.valid })
            }
            #expect(try await Self.hours(f)[turncoat.hostID] ?? 0 == 0)
        }
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for e in self { out.append(try await transform(e)) }
        return out
    }
}
