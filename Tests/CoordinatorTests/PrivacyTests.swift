import CoordinatorService
import CoordinatorStore
import CoordinatorTestSupport
import Foundation
import Testing
import XunxingClient
import XunxingHTTPClient
import XunxingProtocol

/// What the public pages and API show: only what their owners chose.
@Suite("Privacy of pages and API", .serialized)
struct PrivacyTests {
    static func page(_ f: CoordinatorFixture, _ path: String) async throws -> (Int, String) {
        let response = try await HTTPClient().send("GET", url: f.baseURL + path)
        return (response.status, String(decoding: response.body, as: UTF8.self))
    }

    @Test("a dataset and its candidates are on the public pages only while its owner publishes them; nobody else can publish it")
    func datasetsPrivateUntilPublished() async throws {
        try await CoordinatorFixture.with { f in
            let owner = try await f.astronomer()
            let other = try await f.astronomer()
            let path = try f.simulatedObservation()
            let status = try await onThread { try owner.submit(file: path, name: "secret-survey-field", preset: "tiny", dmMax: 60, accelMax: nil, sha256: nil) }
            try await f.waitUntil(timeout: 30, "split") { try await onThread { try owner.dataset(status.id).state } != "splitting" }
            // A finished candidate list, so the candidate page would exist if it were public.
            async let a = try await f.host(name: "a").work()
            async let b = try await f.host(name: "b").work()
            _ = try await (a, b)
            try await f.waitUntil(timeout: 30, "complete") { try await onThread { try owner.dataset(status.id).state } == "complete" }
            #expect(try await onThread { try owner.candidates(status.id) }.count > 0)

            func visible() async throws -> [Bool] {
                let home = try await Self.page(f, "/"), list = try await Self.page(f, "/datasets")
                let dataset = try await Self.page(f, "/datasets/\(status.id)")
                let candidate = try await Self.page(f, "/datasets/\(status.id)/candidates/0")
                #expect(Set([dataset.0, candidate.0]).count == 1, "dataset \(dataset.0), candidate \(candidate.0)")
                return [home.1.contains("secret-survey-field"), list.1.contains("secret-survey-field"), dataset.0 == 200, candidate.0 == 200]
            }
            #expect(try await visible() == [false, false, false, false])
            #expect(try await onThread { try owner.dataset(status.id).publishedAt } == nil)
            // Another astronomer can neither see nor publish it.
            let refused = await #expect(throws: CoordinatorClientError.self) { try await onThread { try other.publish(status.id) } }
            #expect(refused?.status == 404)
            #expect(try await visible() == [false, false, false, false])

            let published = try await onThread { try owner.publish(status.id) }
            #expect(published.publishedAt != nil)
            #expect(try await visible() == [true, true, true, true])
            // Still the owner's through the API: publishing is for the pages.
            let stillRefused = await #expect(throws: CoordinatorClientError.self) { try await onThread { try other.dataset(status.id) } }
            #expect(stillRefused?.status == 404)

            #expect(try await onThread { try owner.publish(status.id, false) }.publishedAt == nil)
            #expect(try await visible() == [false, false, false, false])
        }
    }
}
