import CoordinatorStore
import CoordinatorTestSupport
import Foundation
import Synchronization
import Testing
import XunxingSupport

/// Side effects of a transaction (metrics, logs) run once it has committed: never for a
/// transaction that rolled back, once for one that was retried.
@Suite("After-commit effects")
struct AfterCommitTests {
    @Test("an effect runs after the commit, once; never when the body throws", arguments: Backend.allCases)
    func commitAndRollback(backend: Backend) async throws {
        let (store, cleanup) = try await StoreReadTests().open(backend)
        defer { cleanup() }
        let ran = Locked(0)
        let seenInside = Locked<Int?>(nil)
        try await store.transaction { tx in
            tx.afterCommit { ran.with { $0 += 1 } }
            seenInside.with { $0 = ran.current }
        }
        #expect(seenInside.current == 0 && ran.current == 1, "run inside the body: \(seenInside.current ?? -1)")
        struct Refused: Error {}
        await #expect(throws: Refused.self) {
            try await store.transaction { tx in
                tx.afterCommit { ran.with { $0 += 100 } }
                throw Refused()
            }
        }
        #expect(ran.current == 1)
        try await store.close()
    }

    @Test("SQLite batches: a job that fails inside a committed batch runs none of its effects, the others run theirs once")
    func batchedJobs() async throws {
        let (store, cleanup) = try await StoreReadTests().open(.sqlite)
        defer { cleanup() }
        let ran = Locked<[Int]>([])
        struct Refused: Error {}
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<40 {
                group.addTask {
                    do {
                        try await store.transaction { tx in
                            tx.afterCommit { ran.with { $0.append(i) } }
                            if i % 3 == 0 { throw Refused() }
                        }
                    } catch is Refused {}
                }
            }
            try await group.waitForAll()
        }
        #expect(ran.current.sorted() == (0..<40).filter { $0 % 3 != 0 })
        try await store.close()
    }

    @Test("PostgreSQL: a transaction retried after a serialization failure runs its effects once, from the attempt that committed")
    func retriedOnce() async throws {
        let (store, cleanup) = try await StoreReadTests().open(.postgres)
        defer { cleanup() }
        let attempts = Locked(0)
        let ran = Locked<[Int]>([])
        try await store.transaction { tx in
            let attempt = attempts.with { $0 += 1; return $0 }
            tx.afterCommit { ran.with { $0.append(attempt) } }
            if attempt == 1 {
                // What a conflicting writer causes: SQLSTATE 40001, which the store retries.
                try await tx.run("DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '40001'; END $$")
            }
        }
        #expect(attempts.current == 2, "the body ran \(attempts.current) times")
        #expect(ran.current == [2], "effects: \(ran.current)")
        try await store.close()
    }
}
