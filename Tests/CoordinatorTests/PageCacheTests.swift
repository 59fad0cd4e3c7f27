import CoordinatorCore
@testable import CoordinatorService
import CoordinatorTestSupport
import Foundation
import Testing
import XunxingClient
import XunxingHTTPClient
import XunxingSupport

@Suite("Public page cache")
struct PageCacheTests {
    static func renders(_ f: CoordinatorFixture) async throws -> Int {
        let text = String(decoding: try await HTTPClient().send("GET", url: f.baseURL + "/metrics").body, as: UTF8.self)
        let line = text.split(separator: "\n").first { $0.hasPrefix("xunxing_pages_rendered_total ") }
        return line.flatMap { Int(Double($0.split(separator: " ").last ?? "") ?? -1) } ?? 0
    }

    static func page(_ f: CoordinatorFixture, _ path: String) async throws -> (Int, String) {
        let answer = try await HTTPClient().send("GET", url: f.baseURL + path)
        return (answer.status, String(decoding: answer.body, as: UTF8.self))
    }

    @Test("30 views at once render a page once, over HTTP; publishing and unpublishing show at once")
    func cache() async throws {
        // A lifetime no loaded test run outlasts: expiry is tested with a clock of its own below.
        try await CoordinatorFixture.with({ $0.pageCacheSeconds = 600 }) { f in
            let start = try await Self.renders(f)
            let views = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<30 { group.addTask { try await Self.page(f, "/leaderboard").0 } }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(views.count == 30 && views.allSatisfy { $0 == 200 })
            #expect(try await Self.renders(f) - start == 1, "one render for 30 views")
            _ = try await onThread { try CoordinatorClient(baseURL: f.baseURL).signup(email: "zed@example.org", name: "Zed Newcomer") }
            #expect(try await !Self.page(f, "/leaderboard").1.contains("Zed Newcomer"), "served from the cache")
            #expect(try await Self.renders(f) - start == 1)

            // Publishing and unpublishing show at once, cache or not.
            let astronomer = try await f.astronomer()
            let dataset = try await f.submitAndSplit(try f.simulatedObservation(), astronomer: astronomer)
            #expect(try await Self.page(f, "/datasets").1.contains(dataset.id) == false)
            _ = try await onThread { try astronomer.publish(dataset.id) }
            #expect(try await Self.page(f, "/datasets").1.contains(dataset.id))
            #expect(try await Self.page(f, "/datasets/\(dataset.id)").0 == 200)
            _ = try await onThread { try astronomer.publish(dataset.id, false) }
            #expect(try await Self.page(f, "/datasets/\(dataset.id)").0 == 404)
            #expect(try await Self.page(f, "/datasets").1.contains(dataset.id) == false)
        }
    }

    @Test("the cache renders again after its lifetime, never keeps a failure, and renders concurrent misses once")
    func lifetime() async throws {
        let clock = ManualClock(0)
        let cache = PageCache(lifetime: 5, clock: { clock.now() })
        let renders = ManualClock(0)  // a counter
        func render(_ text: String) -> @Sendable () async throws -> String {
            { renders.advance(by: 1); try await Task.sleep(for: .milliseconds(50)); return text }
        }
        let first = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<20 { group.addTask { try await cache.page("/a", render: render("one")) } }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(first == Array(repeating: "one", count: 20) && renders.now() == 1)
        clock.advance(by: 4.9)
        #expect(try await cache.page("/a", render: render("two")) == "one" && renders.now() == 1)
        clock.advance(by: 0.2)
        #expect(try await cache.page("/a", render: render("two")) == "two" && renders.now() == 2)
        #expect(try await cache.page("/b", render: render("b")) == "b" && renders.now() == 3, "another path is another page")
        struct Missing: Error {}
        for _ in 0..<2 {
            await #expect(throws: Missing.self) { try await cache.page("/gone") { renders.advance(by: 1); throw Missing() } }
        }
        #expect(renders.now() == 5, "a failure is rendered again, not kept")
        cache.removeAll()
        #expect(try await cache.page("/a", render: render("three")) == "three" && renders.now() == 6)
    }
}
