import CoordinatorCore
import CoordinatorService
import CoordinatorTestSupport
import CoordinatorStore
import Foundation
import Testing
import XunxingClient
import XunxingProtocol
import XunxingSupport

@Suite("Validation and deadlines", .serialized)
struct ValidationTests {
    @Test("a host returning different candidates is marked invalid and a replica is added", arguments: Backend.allCases)
    func fabricatedResult(backend: Backend) async throws {
        // No re-search: this is the disagreement path (AttackTests run the audit).
        try await CoordinatorFixture.with(backend: backend, { $0.auditResearchRate = 0; $0.schedulingWindow = 1 }) { f in
            let astronomer = try await f.astronomer()
            _ = try await f.submitAndSplit(try f.simulatedObservation(), astronomer: astronomer)
            let honest = try await f.host(name: "honest")
            let cheat = try await f.host(name: "cheat")
            let third = try await f.host(name: "third")
            #expect(try await honest.work(limit: 1) == ["reported"])
            #expect(try await cheat.work(limit: 1, behaviour: .fabricate) == ["reported"])
            // No agreement yet: the first unit gained a third replica, which the third host gets.
            let outcome = try await third.work(limit: 1)
            #expect(outcome == ["valid"])
            let units = try await f.coordinator.store.transaction { try await $0.workUnits(dataset: (try await $0.datasets(owner: nil)).first!.id) }
            let first = units[0]
            #expect(try await f.coordinator.store.transaction { try await $0.workUnit(id: first.id) }?.state == WorkUnitState.validated)
            let replicas = try await f.coordinator.store.transaction { try await $0.replicas(workUnit: first.id) }
            #expect(replicas.count == 3)
            #expect(replicas.first { $0.hostId == cheat.hostID }?.state == ReplicaState.invalid)
            #expect(replicas.filter { $0.state == ReplicaState.valid }.count == 2)
            let cheatHost = try await f.coordinator.store.transaction { try await $0.host(id: cheat.hostID) }
            #expect(cheatHost?.invalidCount == 1)
        }
    }

    @Test("an unacknowledged assignment is reissued once the clock passes its timeout; the late host's report is refused", arguments: Backend.allCases)
    func missedDeadline(backend: Backend) async throws {
        let clock = ManualClock()
        try await CoordinatorFixture.with(backend: backend, clock: clock, { $0.acknowledgeTimeout = 60 }) { f in
            let astronomer = try await f.astronomer()
            _ = try await f.submitAndSplit(try f.simulatedObservation(), astronomer: astronomer)
            let vanishing = try await f.host(name: "vanishing")
            let work = try await onThread { try vanishing.client.requestWork(WorkRequest(cores: 1, memoryMB: 512, speed: 1, seconds: 0.001)) }
            let taken = try #require(work.assignments.first)
            // The clock moves past the timeout, and the deadlines job's next pass (run here rather
            // than waited for) loses the replica.
            clock.advance(by: 61)
            try await f.coordinator.core.replication.expireOverdueReplicas()
            #expect(try await f.coordinator.store.read { try await $0.replica(id: taken.replicaID) }?.state == ReplicaState.lost)
            let replicas = try await f.coordinator.store.transaction { try await $0.replicas(workUnit: taken.workUnitID) }
            #expect(replicas.count == 3)
            #expect(replicas.filter { $0.state == ReplicaState.unsent }.count == 2)
            // The late host is told its result is no longer needed.
            let late = WorkUnitResult(workUnitID: taken.workUnitID, candidates: [], cpuSeconds: 1, elapsedSeconds: 1, seriesSearched: 1, software: "x")
            let error = await #expect(throws: CoordinatorClientError.self) {
                try await onThread { try vanishing.client.report(replica: taken.replicaID, result: late) }
            }
            #expect(error?.status == 409)
            // Two other hosts finish the whole dataset, including the reissued replica.
            let a = try await f.host(name: "a")
            let b = try await f.host(name: "b")
            async let ra = a.work()
            async let rb = b.work()
            _ = try await (ra, rb)
            let unit = try await f.coordinator.store.transaction { try await $0.workUnit(id: taken.workUnitID) }
            #expect(unit?.state == WorkUnitState.validated)
        }
    }

    @Test("adaptive replication: a trusted host's units need one result, an invalid one resets the trust")
    func adaptiveReplication() async throws {
        try await CoordinatorFixture.with({ $0.trustThreshold = 2; $0.spotCheckRate = 0; $0.schedulingWindow = 1 }) { f in
            let astronomer = try await f.astronomer()
            let dataset = try await f.submitAndSplit(try f.simulatedObservation(samples: 1 << 16), astronomer: astronomer, dmMax: 400)
            #expect(dataset.units.total >= 4)
            let a = try await f.host(name: "a")
            let b = try await f.host(name: "b")
            // Two units each, in step, so both hosts build a streak of two valid results.
            for _ in 0..<2 {
                #expect(try await a.work(limit: 1).count == 1)
                #expect(try await b.work(limit: 1).count == 1)
            }
            #expect(try await f.coordinator.store.transaction { try await $0.host(id: a.hostID) }?.validStreak == 2)
            // Now trusted: the next unit is validated on a's result alone, its twin withdrawn.
            #expect(try await a.work(limit: 1) == ["valid"])
            let units = try await f.coordinator.store.transaction { try await $0.workUnits(dataset: dataset.id) }
            let single = units.filter { $0.targetResults == 1 }
            #expect(single.count == 1)
            let replicas = try await f.coordinator.store.transaction { try await $0.replicas(workUnit: single[0].id) }
            #expect(replicas.map(\.state) == [ReplicaState.valid])
            // A trusted host caught cheating loses its trust (its result fails the sanity check).
            let caught = try await a.work(limit: 1, behaviour: .truncate)
            #expect(caught == ["invalid"])
            #expect(try await f.coordinator.store.transaction { try await $0.host(id: a.hostID) }?.validStreak == 0)
        }
    }

    @Test("every Nth result of a trusted host is replicated whatever the random draw")
    func everyNthReplicated() async throws {
        try await CoordinatorFixture.with({ $0.trustThreshold = 2; $0.spotCheckRate = 0; $0.spotCheckEvery = 3; $0.schedulingWindow = 1 }) { f in
            let astronomer = try await f.astronomer()
            let dataset = try await f.submitAndSplit(try f.simulatedObservation(samples: 1 << 17), astronomer: astronomer, dmMax: 1000)
            #expect(dataset.units.total >= 6)
            let a = try await f.host(name: "a")
            let b = try await f.host(name: "b")
            for _ in 0..<2 {
                #expect(try await a.work(limit: 1) == ["reported"])
                #expect(try await b.work(limit: 1) == ["valid"])
            }
            // Streak 2: trusted, but its third result is the 3rd: replicated.
            #expect(try await a.work(limit: 1) == ["reported"])
            #expect(try await b.work(limit: 1) == ["valid"])
            // Streak 3: the next is validated alone, and so is the one after; the 6th is replicated.
            #expect(try await a.work(limit: 2) == ["valid", "valid"])
            #expect(try await a.work(limit: 1) == ["reported"])
        }
    }

    @Test("a repeated upload of the same result is recognised, not counted twice")
    func duplicateReport() async throws {
        try await CoordinatorFixture.with { f in
            let astronomer = try await f.astronomer()
            _ = try await f.submitAndSplit(try f.simulatedObservation(), astronomer: astronomer)
            let host = try await f.host(name: "h")
            let work = try await onThread { try host.client.requestWork(WorkRequest(cores: 1, memoryMB: 512, speed: 1, seconds: 0.001)) }
            let a = try #require(work.assignments.first)
            let result = try await onThread { try host.honestResult(a) }
            #expect(try await onThread { try host.client.report(replica: a.replicaID, result: result) }.outcome == "reported")
            #expect(try await onThread { try host.client.report(replica: a.replicaID, result: result) }.outcome == "duplicate")
        }
    }
}
