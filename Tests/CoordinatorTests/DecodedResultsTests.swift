import Foundation
import Testing
import XunxingProtocol

@testable import CoordinatorCore

@Suite("Decoded results kept by replica")
struct DecodedResultsTests {
    func result(_ id: String, cpu: Double) -> WorkUnitResult {
        WorkUnitResult(workUnitID: id, candidates: [], cpuSeconds: cpu, elapsedSeconds: 1, seriesSearched: 3, software: "t")
    }

    func json(_ r: WorkUnitResult) throws -> String {
        String(decoding: try WireCoding.encoder().encode(r), as: UTF8.self)
    }

    @Test("a kept result answers only for the very text it was decoded from; other text is decoded")
    func answersOnlyForItsText() throws {
        let cache = DecodedResults()
        let stored = try json(result("wu-1", cpu: 2))
        // A marker that no decoding of `stored` gives: seeing it proves the answer came from memory.
        let marker = result("wu-1", cpu: 99)
        cache.keep(marker, replica: "r1", json: stored)
        #expect(try cache.result(replica: "r1", json: stored) == marker)
        // The database holds other text for r1 (changed, or stored by another coordinator): decoded.
        let other = try json(result("wu-1", cpu: 5))
        #expect(try cache.result(replica: "r1", json: other).cpuSeconds == 5)
        // ... and now kept in place of the marker.
        #expect(try cache.result(replica: "r1", json: other).cpuSeconds == 5)
        #expect(try cache.result(replica: "r1", json: stored).cpuSeconds == 2)
        // Another replica with the same text is decoded, not answered with r1's entry.
        #expect(try cache.result(replica: "r2", json: stored).cpuSeconds == 2)
        #expect(cache.count == 2)
        #expect(throws: DecodingError.self) { try cache.result(replica: "r3", json: "{}") }
        #expect(cache.count == 2)
    }

    @Test("past the byte limit the oldest entries go, and what is left stays within it")
    func evictsOldestFirst() throws {
        let texts = try (0..<6).map { try json(result("wu-\($0)", cpu: Double($0))) }
        let size = texts[0].utf8.count
        #expect(texts.allSatisfy { $0.utf8.count == size })
        let cache = DecodedResults(byteLimit: 3 * size)
        for (i, text) in texts.enumerated() {
            cache.keep(result("wu-\(i)", cpu: -1), replica: "r\(i)", json: text)
        }
        #expect(cache.count == 3)
        // The last three answer from memory (the marker cpu -1), the first three are decoded.
        for i in 3..<6 { #expect(try cache.result(replica: "r\(i)", json: texts[i]).cpuSeconds == -1) }
        for i in 0..<3 { #expect(try cache.result(replica: "r\(i)", json: texts[i]).cpuSeconds == Double(i)) }
        #expect(cache.count == 3)
        // A text larger than the whole limit is never kept.
        let small = DecodedResults(byteLimit: size - 1)
        small.keep(result("wu-0", cpu: -1), replica: "r0", json: texts[0])
        #expect(small.count == 0)
    }
}
