import CoordinatorService
import CoordinatorTestSupport
import Foundation
import Testing
import XunxingClient
import XunxingHTTPClient

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

    @Test("30 views at once render a page once; it changes after the cache's lifetime; misses are not kept; publishing shows at once")
    func cache() async throws {
        try await CoordinatorFixture.with({ $0.pageCacheSeconds = 1.5 }) { f in
            let start = try await Self.renders(f)
            let views = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<30 { group.addTask { try await Self.page(f, "/leaderboard").0 } }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(views.count == 30 && views.allSatisfy { $0 == 200 })
            #expect(try await Self.renders(f) - start == 1, "one render for 30 views")

            _ = try await onThread { try CoordinatorClient(baseURL: f.baseURL).signup(email: "zed@example.org", name: "Zed Newcomer") }
            #expect(try await !Self.page(f, "/leaderboard").1.contains("Zed Newcomer"), "served from the cache")
            try await Task.sleep(for: .seconds(1.6))
            #expect(try await Self.page(f, "/leaderboard").1.contains("Zed Newcomer"), "rendered again after the lifetime")
            #expect(try await Self.renders(f) - start == 2)

            // A page that fails (a missing dataset) is rendered every time, never kept.
            #expect(try await Self.page(f, "/datasets/nope").0 == 404)
            #expect(try await Self.page(f, "/datasets/nope").0 == 404)
            #expect(try await Self.renders(f) - start == 4)

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
}
